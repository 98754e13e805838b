import type { MetricValue } from 'prom-client';
import { Histogram } from '../metrics/prom-client';
import { DURATION_METRIC } from '../metrics/http-metrics';
import { histogramCounts, type HistogramCounts } from '../metrics/prom-client-adapter';
import type { AnyRegistry } from '../metrics/registry';
import { WindowRing, type Sample, type WindowDelta } from '../metrics/window-ring';
import { RuleError } from './rule-reader';
import type { CompareOp } from './types';

/** The request duration histogram every request rule reads. */
export { DURATION_METRIC };

/** Labels of one series as prom-client reports them. */
export type Labels = Partial<Record<string, string | number>>;

/** One series of a rule's expression at one evaluation. */
export interface SeriesResult {
  /** Labels the series adds to the alert (gauge series labels, `by` labels). */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Whether the rule's condition holds for this series. */
  readonly active: boolean;
}

/**
 * Reads the instance's own registry, each metric once per evaluation (never over HTTP). A histogram is
 * read once for all of its `_count`, `_sum` and `_bucket` series, from its counts
 * ({@link histogramCounts}), not through its exposition.
 */
export class RegistryReader {
  readonly #cache = new Map<string, Promise<readonly MetricValue<string>[] | undefined>>();
  readonly #histograms = new Map<Histogram<string>, Promise<HistogramCounts>>();
  readonly #defaults: Readonly<Record<string, string>> | undefined;

  /**
   * Read from `registry`, whose exposition adds `defaultLabels` (`metrics.defaultLabels`) to every series:
   * they are added here too, so that matchers and alert labels see what Prometheus sees.
   */
  constructor(
    readonly registry: AnyRegistry,
    defaultLabels: Readonly<Record<string, string>> = {},
  ) {
    this.#defaults = Object.keys(defaultLabels).length > 0 ? defaultLabels : undefined;
  }

  /** Forget the previous evaluation's values. */
  begin(): void {
    this.#cache.clear();
    this.#histograms.clear();
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

  /**
   * The counts of histogram `name`, undefined when the registry has no metric of that name (a metric
   * that is not a prom-client `Histogram`, such as an aggregated one, is read through its exposition).
   */
  histogram(name: string): Promise<HistogramCounts | undefined> {
    const h = this.registry.getSingleMetric(name);
    return h === undefined ? Promise.resolve(undefined) : this.#countsOf(h as Histogram<string>);
  }

  #countsOf(h: Histogram<string>): Promise<HistogramCounts> {
    let counts = this.#histograms.get(h);
    if (counts === undefined) {
      counts = this.#defaults === undefined ? histogramCounts(h) : histogramCounts(h).then((c) => ({ ...c, series: c.series.map((s) => this.#withDefaults(s)) }));
      this.#histograms.set(h, counts);
    }
    return counts;
  }

  async #read(name: string): Promise<readonly MetricValue<string>[] | undefined> {
    const values = await this.#readOwn(name);
    return values === undefined || this.#defaults === undefined ? values : values.map((v) => this.#withDefaults(v));
  }

  /** `series` with the registry's default labels under its own (its own win, as in the exposition). */
  #withDefaults<S extends { readonly labels: object }>(series: S): S {
    return { ...series, labels: { ...this.#defaults, ...series.labels } };
  }

  async #readOwn(name: string): Promise<readonly MetricValue<string>[] | undefined> {
    const direct = this.registry.getSingleMetric(name);
    if (direct && !(direct instanceof Histogram)) return (await direct.get()).values;
    const m = /^(.*)_(count|sum|bucket)$/.exec(name);
    const base = direct ?? (m ? this.registry.getSingleMetric(m[1] as string) : undefined);
    if (!base) return undefined;
    if (base instanceof Histogram) return seriesOf(await this.#countsOf(base), direct ? 'count' : (m?.[2] as 'count' | 'sum' | 'bucket'));
    const all = (await base.get()).values as MetricValue<string>[];
    const wanted = direct ? `${name}_count` : name;
    return all.filter((v) => (v as { metricName?: string }).metricName === wanted);
  }
}

/** A histogram's `_count`, `_sum` or `_bucket` series (cumulative, `le` labelled) as prom-client reports them. */
function seriesOf(counts: HistogramCounts, part: 'count' | 'sum' | 'bucket'): MetricValue<string>[] {
  const out: MetricValue<string>[] = [];
  for (const s of counts.series) {
    if (part !== 'bucket') {
      out.push({ labels: s.labels, value: part === 'count' ? s.count : s.sum });
      continue;
    }
    let cumulative = 0;
    counts.bounds.forEach((le, i) => {
      cumulative += s.buckets[i] ?? 0;
      out.push({ labels: { ...s.labels, le }, value: cumulative });
    });
    out.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count });
  }
  return out;
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

/** The one series of a rule without labels; active when `value` passes the rule's comparison unless told. */
export function single(rule: { readonly op: CompareOp; readonly threshold: number }, value: number, active = compare(rule.op, value, rule.threshold)): SeriesResult[] {
  return [{ labels: {}, value, active }];
}

/** Whether a series is of `route` (any route when undefined) and has every matcher's value. */
export function matches(labels: Labels, route: string | undefined, matchers: Readonly<Record<string, string>>): boolean {
  if (route !== undefined && labels.route !== route) return false;
  for (const [k, v] of Object.entries(matchers)) if (String(labels[k] ?? '') !== v) return false;
  return true;
}

/** Add `v` to the value of `k`. */
export function addTo(map: Map<string, number>, k: string, v: number): void {
  map.set(k, (map.get(k) ?? 0) + v);
}

function is5xx(labels: Labels): boolean {
  const s = String(labels.status_code ?? '');
  return s.length === 3 && s.startsWith('5');
}

/** Cumulative `bad` and `all` requests of `route`: bad = 5xx, or slower than `latency` seconds when given. */
export async function badAndAll(reader: RegistryReader, route: string | undefined, latency: number | undefined): Promise<Sample> {
  const out = new Map<string, number>([['bad', 0], ['all', 0]]);
  const h = await reader.histogram(DURATION_METRIC);
  if (h === undefined) return out;
  // Requests no slower than `latency` are those in the buckets up to its bound (none when it is not a bound).
  const at = latency === undefined ? -1 : h.bounds.indexOf(latency);
  for (const s of h.series) {
    if (!matches(s.labels, route, {})) continue;
    addTo(out, 'all', s.count);
    if (latency === undefined) {
      if (is5xx(s.labels)) addTo(out, 'bad', s.count);
      continue;
    }
    let good = 0;
    for (let i = 0; i <= at; i++) good += s.buckets[i] ?? 0;
    addTo(out, 'bad', s.count - good);
  }
  return out;
}

/** Each call: the increase of {@link badAndAll} (5xx as bad) of `route` over a window of `windowMs`. */
export function requestWindow(windowMs: number, route: string | undefined): (t: number, reader: RegistryReader) => Promise<WindowDelta | undefined> {
  const ring = new WindowRing(windowMs);
  return async (t, reader) => ring.advance(t, await badAndAll(reader, route, undefined));
}

/** bad / all of a {@link badAndAll} increase (NaN without requests). */
export function ratio(d: ReadonlyMap<string, number>): number {
  return (d.get('bad') ?? 0) / (d.get('all') ?? 0);
}

/** The RuleError of a rule whose metric the registry lacks, or has with another type. */
export function metricError(rule: { readonly name: string; readonly metric: string }, registry: AnyRegistry, want: abstract new (...args: never[]) => unknown, what: string): RuleError {
  const m = registry.getSingleMetric(rule.metric);
  const known = registry
    .getMetricsAsArray()
    .filter((x) => x instanceof want)
    .map((x) => (x as unknown as { name: string }).name)
    .sort();
  return new RuleError(
    `express-observability: alert rule "${rule.name}" field "metric": ${m ? `"${rule.metric}" is not a ${what}` : `unknown metric "${rule.metric}"`} on the instance's registry (known ${what}s: ${known.join(', ') || 'none'}); register custom metrics before passing rules that use them (obs.alerts.add())`,
  );
}
