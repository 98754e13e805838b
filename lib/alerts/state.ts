import { createHash } from 'node:crypto';
import { formatDuration } from './duration';
import type { ResolvedRule } from './rules';
import type { SeriesResult } from './series';
import { renderTemplate } from './templates';
import type { AlertSnapshot, AlertState, RuleStatus } from './types';

/** How long a resolved alert stays visible (and is re-sent to Alertmanager), as in Prometheus. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** One alert (rule × label set) and its place in the state machine. */
export interface AlertInstance {
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  state: Exclude<AlertState, 'inactive'>;
  value: number;
  activeAt: number;
  firedAt: number | undefined;
  resolvedAt: number | undefined;
  /** The first evaluation since which a firing alert has not been active (`keepFiringFor` counts from it, as Prometheus does). */
  inactiveSince: number | undefined;
  since: number;
}

/** A state change worth notifying. */
export interface Transition {
  readonly to: 'firing' | 'resolved';
  readonly alert: AlertInstance;
}

/** Stable fingerprint of a label set. */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

/**
 * The state machine of one rule's alerts: inactive → pending (condition holds) →
 * firing (held for `for`) → resolved (cleared, after `keepFiringFor`) → gone after
 * {@link RESOLVED_RETENTION_MS}. A pending alert whose condition clears goes back to
 * inactive silently, which is what keeps flapping inputs from notifying.
 */
export class RuleState {
  readonly #alerts = new Map<string, AlertInstance>();
  #state: AlertState = 'inactive';
  #since: number;
  #value: number | null = null;

  /** State of `rule`, inactive since `now`. */
  constructor(
    readonly rule: ResolvedRule,
    readonly externalLabels: Readonly<Record<string, string>>,
    now: number,
  ) {
    this.#since = now;
  }

  /** Apply one evaluation's series at `now`; returns the firing/resolved transitions. */
  update(now: number, series: readonly SeriesResult[]): Transition[] {
    const r = this.rule;
    const out: Transition[] = [];
    const seen = new Set<string>();
    for (const s of series) {
      const labels = { ...this.externalLabels, ...s.labels, ...r.labels, alertname: r.name, severity: r.severity };
      const fp = fingerprint(labels);
      let a = this.#alerts.get(fp);
      if (a) a.value = s.value;
      if (!s.active) continue;
      seen.add(fp);
      if (!a || a.state === 'resolved') {
        a = { fingerprint: fp, labels, annotations: {}, state: 'pending', value: s.value, activeAt: now, firedAt: undefined, resolvedAt: undefined, inactiveSince: undefined, since: now };
        this.#alerts.set(fp, a);
      }
      a.inactiveSince = undefined;
      a.annotations = Object.fromEntries(Object.entries(r.annotations).map(([k, t]) => [k, renderTemplate(t, s.value, labels)]));
      if (a.state === 'pending' && now - a.activeAt >= r.forMs) {
        a.state = 'firing';
        a.firedAt = now;
        a.since = now;
        out.push({ to: 'firing', alert: a });
      }
    }
    for (const [fp, a] of this.#alerts) {
      if (seen.has(fp)) continue;
      if (a.state === 'pending') this.#alerts.delete(fp);
      else if (a.state === 'firing' && now - (a.inactiveSince ??= now) >= r.keepFiringForMs) {
        a.state = 'resolved';
        a.resolvedAt = now;
        a.since = now;
        out.push({ to: 'resolved', alert: a });
      } else if (a.state === 'resolved' && now - (a.resolvedAt as number) > RESOLVED_RETENTION_MS) this.#alerts.delete(fp);
    }
    this.#value = this.#extreme(series);
    const state = this.#ruleState();
    if (state !== this.#state) {
      this.#state = state;
      this.#since = now;
    }
    return out;
  }

  /** Firing alerts and alerts resolved within the retention. */
  notifiable(): AlertInstance[] {
    return [...this.#alerts.values()].filter((a) => a.state !== 'pending');
  }

  /** Firing alerts. */
  firing(): AlertInstance[] {
    return [...this.#alerts.values()].filter((a) => a.state === 'firing');
  }

  /** The rule's status for `GET /alerts`. */
  status(): RuleStatus {
    const r = this.rule;
    return {
      name: r.name,
      kind: r.kind,
      state: this.#state,
      value: this.#value,
      since: new Date(this.#since).toISOString(),
      for: formatDuration(r.forMs),
      severity: r.severity,
      alerts: [...this.#alerts.values()].map(snapshot),
    };
  }

  #ruleState(): AlertState {
    const states = new Set([...this.#alerts.values()].map((a) => a.state));
    if (states.has('firing')) return 'firing';
    if (states.has('pending')) return 'pending';
    if (states.has('resolved')) return 'resolved';
    return 'inactive';
  }

  #extreme(series: readonly SeriesResult[]): number | null {
    const values = series.map((s) => s.value).filter((v) => Number.isFinite(v));
    if (values.length === 0) return null;
    return this.rule.op.startsWith('<') ? Math.min(...values) : Math.max(...values);
  }
}

/** Public view of one alert. */
export function snapshot(a: AlertInstance): AlertSnapshot {
  return {
    labels: a.labels,
    annotations: a.annotations,
    state: a.state,
    value: a.value,
    activeAt: iso(a.activeAt),
    firedAt: iso(a.firedAt),
    resolvedAt: iso(a.resolvedAt),
    since: iso(a.since) as string,
  };
}
