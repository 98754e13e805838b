import { Counter, Gauge, Histogram, type MetricValue } from 'prom-client';
import type { AnyRegistry } from '../metrics/registry';
import { RuleError, type ResolvedRule, type ResolvedSlo } from './rules';
import type { CompareOp } from './types';
import { histogramQuantile, WindowRing, type Sample } from './window';

/** The request duration histogram every request rule reads. */
export const DURATION_METRIC = 'http_server_request_duration_seconds';

type Labels = Partial<Record<string, string | number>>;

/** One series of a rule's expression at one evaluation. */
export interface SeriesResult {
  /** Labels the series adds to the alert (gauge series labels, `by` labels). */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Whether the rule's condition holds for this series. */
  readonly active: boolean;
}

/** Reads the instance's own registry, each metric once per evaluation (never over HTTP). */
export class RegistryReader {
  readonly #cache = new Map<string, Promise<readonly MetricValue<string>[] | undefined>>();

  /** Read from `registry`. */
  constructor(readonly registry: AnyRegistry) {}

  /** Forget the previous evaluation's values. */
  begin(): void {
    this.#cache.clear();
  }

  /** Current values of `name` (a metric, or a histogram's `_count`/`_sum`/`_bucket`). */
  values(name: string): Promise<readonly MetricValue<string>[] | undefined> {
    let p = this.#cache.get(name);
    if (!p) {
      p = this.#read(name);
      this.#cache.set(name, p);
    }
    return p;
  }

  async #read(name: string): Promise<readonly MetricValue<string>[] | undefined> {
    const direct = this.registry.getSingleMetric(name);
    if (direct && !(direct instanceof Histogram)) return (await direct.get()).values;
    const m = /^(.*)_(count|sum|bucket)$/.exec(name);
    const base = direct ?? (m ? this.registry.getSingleMetric(m[1] as string) : undefined);
    if (!base) return undefined;
    const all = (await base.get()).values as MetricValue<string>[];
    const wanted = direct ? `${name}_count` : name;
    return all.filter((v) => (v as { metricName?: string }).metricName === wanted);
  }
}

/**
 * Gauges the system sampler registers on its first sample (lazily), so they are not on the
 * registry yet when the rules are checked at construction.
 */
export const SYSTEM_GAUGES: readonly string[] = Object.freeze([
  'system_cpu_utilization_ratio',
  'system_cpu_core_utilization_ratio',
  'system_cpu_load_average_1m',
  'system_cpu_load_average_5m',
  'system_cpu_load_average_15m',
  'system_memory_limit_bytes',
  'system_memory_usage_bytes',
  'system_memory_utilization_ratio',
  'system_linux_memory_available_bytes',
  'system_filesystem_limit_bytes',
  'system_filesystem_usage_bytes',
  'system_filesystem_utilization_ratio',
  'nodejs_eventloop_delay_p50_seconds',
  'nodejs_eventloop_delay_p99_seconds',
  'nodejs_eventloop_delay_max_seconds',
]);

/**
 * Throw a RuleError when a rule names a metric the registry does not have (or of the wrong type).
 * `lazyGauges` are gauges known to appear later (the system sampler's).
 */
export function checkMetrics(rules: readonly ResolvedRule[], registry: AnyRegistry, lazyGauges: readonly string[] = []): void {
  for (const r of rules) {
    if (r.metric === undefined) continue;
    if (r.kind === 'gauge' && lazyGauges.includes(r.metric) && !registry.getSingleMetric(r.metric)) continue;
    const m = registry.getSingleMetric(r.metric);
    const suffix = /^(.*)_(count|sum)$/.exec(r.metric);
    const hist = suffix ? registry.getSingleMetric(suffix[1] as string) : undefined;
    const ok = r.kind === 'gauge' ? m instanceof Gauge : m instanceof Counter || hist instanceof Histogram;
    if (ok) continue;
    const want = r.kind === 'gauge' ? Gauge : Counter;
    const known = registry
      .getMetricsAsArray()
      .filter((x) => x instanceof want)
      .map((x) => (x as unknown as { name: string }).name)
      .sort();
    const what = r.kind === 'gauge' ? 'gauge' : 'counter (or histogram _count/_sum)';
    throw new RuleError(
      `express-observability: alert rule "${r.name}" field "metric": ${m ? `"${r.metric}" is not a ${what}` : `unknown metric "${r.metric}"`} on the instance's registry (known ${what}s: ${known.join(', ') || 'none'}); register custom metrics before passing rules that use them (obs.alerts.add())`,
    );
  }
}

/** Compare `v` with `op`; NaN never holds. */
export function compare(op: CompareOp, v: number, threshold: number): boolean {
  if (Number.isNaN(v)) return false;
  switch (op) {
    case '>': return v > threshold;
    case '>=': return v >= threshold;
    case '<': return v < threshold;
    case '<=': return v <= threshold;
    case '==': return v === threshold;
    default: return v !== threshold;
  }
}

function matches(labels: Labels, route: string | undefined, matchers: Readonly<Record<string, string>>): boolean {
  if (route !== undefined && labels.route !== route) return false;
  for (const [k, v] of Object.entries(matchers)) if (String(labels[k] ?? '') !== v) return false;
  return true;
}

function is5xx(labels: Labels): boolean {
  const s = String(labels.status_code ?? '');
  return s.length === 3 && s.startsWith('5');
}

function add(map: Map<string, number>, k: string, v: number): void {
  map.set(k, (map.get(k) ?? 0) + v);
}

/** Cumulative {bad, all} of request metrics: 5xx, or slower than `latency` seconds. */
async function badAndAll(reader: RegistryReader, route: string | undefined, latency: number | undefined): Promise<Sample> {
  const out = new Map<string, number>([['bad', 0], ['all', 0]]);
  const counts = (await reader.values(`${DURATION_METRIC}_count`)) ?? [];
  for (const c of counts) {
    if (!matches(c.labels, route, {})) continue;
    add(out, 'all', c.value);
    if (latency === undefined && is5xx(c.labels)) add(out, 'bad', c.value);
  }
  if (latency !== undefined) {
    let good = 0;
    for (const b of (await reader.values(`${DURATION_METRIC}_bucket`)) ?? []) {
      if (matches(b.labels, route, {}) && Number(b.labels.le) === latency) good += b.value;
    }
    add(out, 'bad', (out.get('all') ?? 0) - good);
  }
  return out;
}

function ratio(d: ReadonlyMap<string, number>): number {
  return (d.get('bad') ?? 0) / (d.get('all') ?? 0);
}

/** Computes one rule's series at each evaluation, keeping its own windows. */
export class RuleProbe {
  readonly #ring: WindowRing | undefined;
  readonly #short: WindowRing | undefined;

  /** Probe for `rule`. */
  constructor(readonly rule: ResolvedRule) {
    this.#ring = rule.windowMs > 0 ? new WindowRing(rule.windowMs) : undefined;
    this.#short = rule.slo ? new WindowRing(rule.slo.burn.shortMs) : undefined;
  }

  /** Evaluate at `t` (ms since epoch). */
  async evaluate(t: number, reader: RegistryReader): Promise<SeriesResult[]> {
    const r = this.rule;
    const one = (value: number, active = compare(r.op, value, r.threshold)): SeriesResult[] => [{ labels: {}, value, active }];
    switch (r.kind) {
      case 'gauge': {
        const out: SeriesResult[] = [];
        for (const v of (await reader.values(r.metric as string)) ?? []) {
          if (!matches(v.labels, undefined, r.matchers)) continue;
          const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
          out.push({ labels, value: v.value, active: compare(r.op, v.value, r.threshold) });
        }
        return out;
      }
      case 'errorRatio': {
        const d = this.#step(t, await badAndAll(reader, r.route, undefined));
        return d ? one(ratio(d.delta)) : [];
      }
      case 'absence': {
        const d = this.#step(t, await badAndAll(reader, r.route, undefined));
        return d && d.full ? one(d.delta.get('all') ?? 0) : [];
      }
      case 'sloBurn': {
        const slo = r.slo as NonNullable<ResolvedRule['slo']>;
        const sample = await badAndAll(reader, r.route, slo.latency);
        const long = this.#step(t, sample);
        const short = this.#short?.delta(t, sample);
        this.#short?.push(t, sample);
        if (!long || !short) return [];
        const value = ratio(long.delta);
        return one(value, compare('>', value, r.threshold) && compare('>', ratio(short.delta), r.threshold));
      }
      case 'latency': {
        const sample = new Map<string, number>();
        for (const b of (await reader.values(`${DURATION_METRIC}_bucket`)) ?? []) {
          if (matches(b.labels, r.route, {})) add(sample, String(b.labels.le), b.value);
        }
        const d = this.#step(t, sample);
        if (!d) return [];
        const buckets = [...d.delta].map(([le, count]) => ({ le: le === '+Inf' ? Infinity : Number(le), count }));
        return one(histogramQuantile(r.quantile, buckets));
      }
      default: {
        const sample = new Map<string, number>();
        for (const v of (await reader.values(r.metric as string)) ?? []) {
          if (!matches(v.labels, undefined, r.matchers)) continue;
          add(sample, JSON.stringify(r.by.map((l) => String(v.labels[l] ?? ''))), v.value);
        }
        const d = this.#step(t, sample);
        if (!d || d.spanMs <= 0) return [];
        return [...d.delta].map(([key, inc]) => {
          const values = JSON.parse(key) as string[];
          const value = inc / (d.spanMs / 1000);
          return { labels: Object.fromEntries(r.by.map((l, i) => [l, values[i] as string])), value, active: compare(r.op, value, r.threshold) };
        });
      }
    }
  }

  #step(t: number, sample: Sample): ReturnType<WindowRing['delta']> {
    const d = this.#ring?.delta(t, sample);
    this.#ring?.push(t, sample);
    return d;
  }
}

/** Tracks an SLO's error budget remaining (1 = untouched, 0 = spent, negative = overspent) over its period. */
export class BudgetProbe {
  readonly #ring: WindowRing;

  /** Probe for `slo`. */
  constructor(readonly slo: ResolvedSlo) {
    this.#ring = new WindowRing(slo.periodMs, 720);
  }

  /** Remaining budget at `t`, or undefined without traffic yet. */
  async evaluate(t: number, reader: RegistryReader): Promise<number | undefined> {
    const sample = await badAndAll(reader, this.slo.route, this.slo.latency);
    const d = this.#ring.delta(t, sample) ?? { delta: sample };
    this.#ring.push(t, sample);
    const r = ratio(d.delta);
    return Number.isNaN(r) ? undefined : 1 - r / (1 - this.slo.objective);
  }
}
