import os from 'node:os';
import type { Gauge } from 'prom-client';
import type { MetricsCollector } from '../metrics/collector';
import type { AnyRegistry } from '../metrics/registry';
import { createNotifier, type AlertLog, type Notifier } from './notifiers';
import type { ResolvedAlertsOptions } from './options';
import { toPrometheusRules } from './promql';
import { resolveRule, resolveSlo, RuleError, type ResolvedRule, type ResolvedSlo } from './rules';
import { RegistryReader } from './series';
import { BudgetProbe } from './slo';
import { checkMetrics, RuleProbe } from './sources';
import { RuleState, type AlertInstance } from './state';
import type { AlertNotification, AlertRuleSpec, RuleStatus, SloSpec } from './types';

/** `obs.alerts`: the instance's rule set, its in-process evaluation and its Prometheus export. */
export interface Alerts {
  /** Alerting rules in evaluation order (SLO burn-rate alerts included). */
  readonly rules: readonly ResolvedRule[];
  /** The SLOs. */
  readonly slos: readonly ResolvedSlo[];
  /** Every rule's state, value and since-when (what `GET /alerts` serves). */
  status(): RuleStatus[];
  /** Evaluate every rule now (also runs on the `interval` timer); never rejects. */
  evaluate(): Promise<RuleStatus[]>;
  /** The rule set as a Prometheus rule file (YAML with PromQL). */
  toPrometheusRules(): string;
  /** Add rules and SLOs after construction (e.g. on custom metrics registered since); validated like options. */
  add(set: { readonly rules?: readonly AlertRuleSpec[]; readonly slos?: readonly SloSpec[] }): void;
}

/** What the engine needs from the instance. */
export interface EngineParts {
  readonly options: ResolvedAlertsOptions;
  readonly registry: AnyRegistry;
  readonly metrics: MetricsCollector;
  readonly serviceName: string;
  /** `metrics.defaultLabels`: the registry adds them to every series it exposes. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  readonly buckets: readonly number[];
  /** Gauges registered later by the instance (the system sampler's); rules may name them. */
  readonly lazyGauges: readonly string[];
  readonly log: AlertLog;
  readonly reportError: (component: string, err: unknown) => void;
}

/** Evaluates the rule set on an unref'd timer over the instance's own registry and notifies. */
export class AlertEngine implements Alerts {
  readonly #o: ResolvedAlertsOptions;
  readonly #parts: EngineParts;
  readonly #rules: ResolvedRule[] = [];
  readonly #slos: ResolvedSlo[] = [];
  readonly #probes: RuleProbe[] = [];
  readonly #states: RuleState[] = [];
  readonly #budgets: BudgetProbe[] = [];
  readonly #notifiers: Notifier[];
  readonly #reader: RegistryReader;
  readonly #generatorUrl: string;
  #budgetGauge: Gauge<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RuleStatus[]> | undefined;
  #closed = false;

  /** Validate the rules against the registry (unknown metrics throw a RuleError) and start evaluating. */
  constructor(parts: EngineParts) {
    this.#parts = parts;
    this.#o = parts.options;
    this.#reader = new RegistryReader(parts.registry, parts.defaultLabels);
    this.#generatorUrl = parts.options.generatorUrl ?? `http://${os.hostname()}/alerts`;
    this.#install(parts.options.rules, parts.options.slos);
    this.#notifiers = parts.options.notifiers.map((n) =>
      createNotifier(n, {
        retries: parts.options.retries,
        resendIntervalMs: parts.options.resendIntervalMs,
        serviceName: parts.serviceName,
        log: parts.log,
        reportError: parts.reportError,
      }),
    );
    this.#schedule();
  }

  get rules(): readonly ResolvedRule[] {
    return [...this.#rules];
  }

  get slos(): readonly ResolvedSlo[] {
    return [...this.#slos];
  }

  add(set: { readonly rules?: readonly AlertRuleSpec[]; readonly slos?: readonly SloSpec[] }): void {
    const rules = (set.rules ?? []).map((r, i) => resolveRule(r, `alerts.add().rules[${i}]`));
    const slos = (set.slos ?? []).map((s, i) => resolveSlo(s, `alerts.add().slos[${i}]`, this.#parts.buckets));
    // Against the installed rules and SLOs, and within this call.
    const sloNames = new Set(this.#slos.map((x) => x.name));
    for (const s of slos) {
      if (sloNames.has(s.name)) throw new RuleError(`express-observability: SLO "${s.name}" is already defined`);
      sloNames.add(s.name);
    }
    const taken = new Set(this.#rules.map((r) => `${r.name}\u0000${JSON.stringify(r.labels)}`));
    for (const r of [...rules, ...slos.flatMap((s) => s.alerts)]) {
      const key = `${r.name}\u0000${JSON.stringify(r.labels)}`;
      if (taken.has(key)) throw new RuleError(`express-observability: alert "${r.name}" is already defined with the same labels`);
      taken.add(key);
    }
    this.#install(rules, slos);
    this.#schedule();
  }

  #install(rules: readonly ResolvedRule[], slos: readonly ResolvedSlo[]): void {
    checkMetrics(rules, this.#parts.registry, this.#parts.lazyGauges);
    const now = Date.now();
    for (const r of [...rules, ...slos.flatMap((s) => s.alerts)]) {
      this.#rules.push(r);
      this.#probes.push(new RuleProbe(r));
      this.#states.push(new RuleState(r, this.#o.externalLabels, now));
    }
    for (const s of slos) {
      this.#slos.push(s);
      this.#budgets.push(new BudgetProbe(s));
    }
    if (slos.length > 0) {
      this.#budgetGauge ??= this.#parts.metrics.gauge(
        'observability_slo_error_budget_remaining_ratio',
        'Share of the SLO error budget left over its period, computed in-process (1 = untouched, below 0 = overspent).',
        ['slo'],
      );
    }
  }

  #schedule(): void {
    if (this.#timer || this.#closed || !this.#o.enabled || this.#rules.length === 0) return;
    this.#timer = setInterval(() => void this.evaluate(), this.#o.intervalMs);
    this.#timer.unref();
    // A first evaluation right away gives every window its base sample.
    setImmediate(() => void this.evaluate()).unref();
  }

  status(): RuleStatus[] {
    return this.#states.map((s) => s.status());
  }

  toPrometheusRules(): string {
    return toPrometheusRules({ ...this.#o, rules: this.#rules.filter((r) => r.kind !== 'sloBurn'), slos: this.#slos });
  }

  evaluate(): Promise<RuleStatus[]> {
    this.#running ??= this.#evaluate()
      .catch((err: unknown) => {
        this.#parts.reportError('alerts', err);
        return this.status();
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #evaluate(): Promise<RuleStatus[]> {
    if (this.#closed) return this.status();
    const now = Date.now();
    this.#reader.begin();
    const changed: AlertNotification[] = [];
    for (let i = 0; i < this.#probes.length; i++) {
      const probe = this.#probes[i] as RuleProbe;
      const state = this.#states[i] as RuleState;
      let series;
      try {
        series = await probe.evaluate(now, this.#reader);
      } catch (err) {
        this.#parts.reportError(`alerts:${probe.rule.name}`, err);
        continue;
      }
      for (const t of state.update(now, series)) changed.push(this.#notification(t.alert, now));
    }
    for (const b of this.#budgets) {
      const left = await b.evaluate(now, this.#reader);
      if (left !== undefined) this.#budgetGauge?.set({ slo: b.slo.name }, left);
    }
    const current = this.#states.flatMap((s) => s.notifiable()).map((a) => this.#notification(a, now));
    for (const n of this.#notifiers) {
      try {
        n.notify({ now, changed, current });
      } catch (err) {
        this.#parts.reportError('alerts:notify', err);
      }
    }
    return this.status();
  }

  #notification(a: AlertInstance, now: number): AlertNotification {
    const resolved = a.state === 'resolved';
    const validFor = 4 * Math.max(this.#o.intervalMs, this.#o.resendIntervalMs);
    return {
      status: resolved ? 'resolved' : 'firing',
      labels: a.labels,
      annotations: a.annotations,
      value: a.value,
      startsAt: new Date(a.activeAt).toISOString(),
      endsAt: new Date(resolved ? (a.resolvedAt as number) : now + validFor).toISOString(),
      generatorURL: this.#generatorUrl,
      fingerprint: a.fingerprint,
    };
  }

  /** Stop the timer and the notifiers' retries (shutdown step). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await Promise.all(this.#notifiers.map((n) => n.close()));
  }
}
