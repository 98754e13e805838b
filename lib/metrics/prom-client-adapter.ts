/**
 * The one place that touches prom-client beyond its typed, documented API (docs/performance.md,
 * "prom-client adapter"). Three things need it:
 *
 * - bound histogram series on the request path: an observation is a few additions into prom-client's
 *   own per-series state (`hashMap`), ~0.8 µs cheaper per request than the public bound child
 *   `histogram.labels(...).observe()`;
 * - reading every series of a histogram as counts (the dashboard's route table and charts) without
 *   building its exposition ({@link histogramCounts});
 * - exposition in both formats from one registry: prom-client 15's `Registry.metrics()` itself
 *   renames counters in place when writing OpenMetrics (drops `_total`), so the names are put back
 *   before a text scrape.
 *
 * The private path is used only with the exact prom-client version it was written against and only
 * while the shapes it reads are there; otherwise every series goes through the public API, and
 * {@link PromClientSupport.reason} says why (the HTTP metrics report it once per instance).
 */
import type { Histogram } from 'prom-client';
import { bucketIndex } from './histogram-math';

/** The prom-client version whose internals the fast path was written against and tested with. */
export const PINNED_PROM_CLIENT_VERSION = '15.1.3';

type HashObject = (labels: object, names: readonly string[]) => string;

/** Whether the private fast path may be used with the prom-client actually loaded. */
export interface PromClientSupport {
  /** True when the version is the pinned one and its `hashObject` was found. */
  readonly usable: boolean;
  /** The loaded prom-client's version (`undefined` when it could not be read). */
  readonly version: string | undefined;
  /** Why the fast path is off (`undefined` when usable). */
  readonly reason: string | undefined;
  /** prom-client's own series-key function (`lib/util.js`), when usable. */
  readonly hashObject: HashObject | undefined;
}

/** Decide whether the fast path applies to prom-client `version` with `lib/util` exports `util`. */
export function promClientSupport(version: unknown, util: unknown): PromClientSupport {
  const v = typeof version === 'string' ? version : undefined;
  const hashObject = (util as { hashObject?: unknown } | undefined)?.hashObject;
  let reason: string | undefined;
  if (v !== PINNED_PROM_CLIENT_VERSION) reason = `prom-client ${v ?? '(unknown version)'} is not ${PINNED_PROM_CLIENT_VERSION}`;
  else if (typeof hashObject !== 'function') reason = `prom-client ${v} has no lib/util hashObject()`;
  if (reason !== undefined) {
    return { usable: false, version: v, reason: `${reason}: histogram observations use the public API (slower)`, hashObject: undefined };
  }
  return { usable: true, version: v, reason: undefined, hashObject: hashObject as HashObject };
}

/** `require()` that reports a missing module as `undefined` (its reason ends up in {@link PromClientSupport.reason}). */
function load(id: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id) as unknown;
  } catch (err) {
    return { loadError: err };
  }
}

/** What the loaded prom-client supports; checked once, at load. */
export const PROM_CLIENT: PromClientSupport = promClientSupport(
  (load('prom-client/package.json') as { version?: unknown }).version,
  load('prom-client/lib/util'),
);

/**
 * prom-client's per-series state of a histogram (lib/histogram.js, `createBaseValues`): what its
 * `observe()` updates and what its exposition reads.
 */
interface SeriesValues {
  labels: unknown;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** The parts of a prom-client histogram instance the fast path reads. */
interface HistogramInternals {
  hashMap: Record<string, SeriesValues | undefined>;
  sortedLabelNames: readonly string[];
  upperBounds: readonly number[];
  enableExemplars?: boolean;
  updateExemplar?: (labels: object, value: number, exemplarLabels: Record<string, string>) => void;
}

/** One label set of a histogram, bound once: what the request path observes into. */
export interface HistogramSeries {
  /**
   * Observe `value`; `exemplar` (labels such as `{ trace_id }`) is attached to its bucket when the
   * histogram has exemplars on. `bucket` is `bucketIndex(bounds, value)` when the caller already
   * computed it over the histogram's bounds.
   */
  observe(value: number, exemplar?: Record<string, string>, bucket?: number): void;
  /** True while observations go straight into prom-client's series entry (the fast path). */
  readonly bound: boolean;
}

/**
 * Bind `labels` (kept by reference: pass a frozen object) of `hist`: the fast path when `support`
 * (default: the loaded prom-client's) allows it, else prom-client's public API.
 */
export function bindHistogramSeries(hist: Histogram<string>, labels: Readonly<Record<string, string>>, support: PromClientSupport = PROM_CLIENT): HistogramSeries {
  return new BoundHistogramSeries(hist, labels, support.hashObject);
}

/**
 * The fast path: an observation is a few additions into prom-client's own series state instead of
 * prom-client's generic `observe(labels, value)`, which per call builds a closure and a wrapper
 * object, validates every label, concatenates the series key and converts the bucket bound to a
 * string twice.
 *
 * Exposition, `reset()`, `remove()`, `zero()`, cluster aggregation: all stay prom-client's. The
 * bound entry is re-checked on every observation (same hash map, same entry under the series key);
 * when prom-client replaced or removed it (a registry reset, say) the observation goes through the
 * public `observe()`, which recreates the series, and the next one binds again. Without
 * `hashObject` (an unsupported prom-client) every observation uses the public API.
 */
class BoundHistogramSeries implements HistogramSeries {
  readonly #hist: Histogram<string>;
  readonly #internals: HistogramInternals;
  readonly #labels: Readonly<Record<string, string>>;
  readonly #exemplars: boolean;
  /** Bucket keys of prom-client's `bucketValues` (its upper bounds as property keys), in order. */
  readonly #keys: readonly string[];
  readonly #bounds: readonly number[];
  #key: string | undefined;
  #map: Record<string, SeriesValues | undefined> | undefined;
  #entry: SeriesValues | undefined;

  constructor(hist: Histogram<string>, labels: Readonly<Record<string, string>>, hashObject: HashObject | undefined) {
    this.#hist = hist;
    this.#internals = hist as unknown as HistogramInternals;
    this.#labels = labels;
    this.#exemplars = this.#internals.enableExemplars === true;
    const bounds = this.#internals.upperBounds;
    this.#bounds = Array.isArray(bounds) ? bounds : [];
    this.#keys = this.#bounds.map(String);
    if (hashObject && Array.isArray(this.#internals.sortedLabelNames)) this.#key = hashObject(labels, this.#internals.sortedLabelNames);
  }

  get bound(): boolean {
    return this.#current() !== undefined;
  }

  /** The bound entry if it is still the one prom-client reads, else undefined. */
  #current(): SeriesValues | undefined {
    const map = this.#internals.hashMap;
    const entry = this.#entry;
    if (entry !== undefined && map === this.#map && map[this.#key as string] === entry) return entry;
    this.#entry = undefined;
    return undefined;
  }

  /** After a public observe(), bind prom-client's entry if it has the shape this class updates. */
  #bind(): void {
    if (this.#key === undefined) return;
    const map = this.#internals.hashMap;
    const entry = map?.[this.#key];
    if (entry === undefined || entry.labels !== this.#labels) return;
    if (typeof entry.sum !== 'number' || typeof entry.count !== 'number' || typeof entry.bucketValues !== 'object') return;
    for (const k of this.#keys) if (typeof entry.bucketValues[k] !== 'number') return;
    this.#map = map;
    this.#entry = entry;
  }

  observe(value: number, exemplar?: Record<string, string>, bucket?: number): void {
    const entry = this.#current();
    if (entry === undefined || !Number.isFinite(value)) {
      this.#publicObserve(value, exemplar);
      this.#bind();
      return;
    }
    entry.sum += value;
    entry.count += 1;
    // prom-client counts +Inf only in `count` (its bucket map has no +Inf key); same here.
    const b = bucket ?? bucketIndex(this.#bounds, value);
    if (b < this.#keys.length) entry.bucketValues[this.#keys[b] as string] += 1;
    if (exemplar !== undefined && this.#exemplars) {
      const update = this.#internals.updateExemplar;
      if (typeof update === 'function') update.call(this.#hist, this.#labels, value, exemplar);
    }
  }

  #publicObserve(value: number, exemplar: Record<string, string> | undefined): void {
    if (this.#exemplars) {
      this.#hist.observe(exemplar ? { labels: this.#labels, value, exemplarLabels: exemplar } : { labels: this.#labels, value });
    } else {
      this.#hist.observe(this.#labels, value);
    }
  }
}

/** One series of a histogram as counts: per bucket (not cumulative), the finite bounds' then +Inf's. */
export interface HistogramSeriesCounts {
  readonly labels: Readonly<Record<string, string | number>>;
  /** `bounds.length + 1` counts: observations in each bucket alone, the last one above every bound. */
  readonly buckets: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** Every series of a histogram and its finite upper bounds. */
export interface HistogramCounts {
  readonly bounds: readonly number[];
  readonly series: readonly HistogramSeriesCounts[];
}

/**
 * Every series of `hist` as counts. With the fast path (`support`, default the loaded prom-client's),
 * read from prom-client's own series state: no exposition objects, where `hist.get()` makes one per
 * bucket and series with a copy of its labels (at the default cap of 2,500 label sets, ~40,000
 * objects and tens of milliseconds with the event loop stopped, for each dashboard read). Otherwise,
 * and for a histogram with a `collect()` callback, from `hist.get()`.
 */
export async function histogramCounts(hist: Histogram<string>, support: PromClientSupport = PROM_CLIENT): Promise<HistogramCounts> {
  const internals = hist as unknown as HistogramInternals & { collect?: unknown };
  const bounds = internals.upperBounds;
  if (support.usable && typeof internals.collect !== 'function' && Array.isArray(bounds) && typeof internals.hashMap === 'object' && internals.hashMap !== null) {
    const keys = bounds.map(String);
    const series: HistogramSeriesCounts[] = [];
    let shaped = true;
    for (const entry of Object.values(internals.hashMap)) {
      if (entry === undefined) continue;
      if (typeof entry.count !== 'number' || typeof entry.sum !== 'number' || typeof entry.bucketValues !== 'object' || typeof entry.labels !== 'object' || entry.labels === null) {
        shaped = false;
        break;
      }
      const buckets = new Array<number>(keys.length + 1);
      let finite = 0;
      for (let i = 0; i < keys.length; i++) {
        const n = entry.bucketValues[keys[i] as string] ?? 0;
        buckets[i] = n;
        finite += n;
      }
      // prom-client counts an observation above every bound only in `count`.
      buckets[keys.length] = entry.count - finite;
      series.push({ labels: entry.labels as Record<string, string | number>, buckets, sum: entry.sum, count: entry.count });
    }
    if (shaped) return { bounds, series };
  }
  return countsOf(await hist.get());
}

/**
 * {@link HistogramCounts} of a histogram's exposition values: per series, the cumulative `_bucket`
 * values in the order prom-client writes them (its bounds, then `+Inf`), its `_sum` and `_count`.
 */
function countsOf(data: { values: readonly { labels: Partial<Record<string, string | number>>; value: number; metricName?: string }[] }): HistogramCounts {
  const bounds: number[] = [];
  const byKey = new Map<string, { labels: Record<string, string | number>; cumulative: number[]; sum: number; count: number }>();
  for (const v of data.values) {
    const labels: Record<string, string | number> = {};
    let le: string | number | undefined;
    for (const [k, x] of Object.entries(v.labels)) {
      if (k === 'le') le = x;
      else if (x !== undefined) labels[k] = x;
    }
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = byKey.get(key);
    if (s === undefined) {
      s = { labels, cumulative: [], sum: 0, count: 0 };
      byKey.set(key, s);
    }
    const name = v.metricName ?? '';
    if (name.endsWith('_bucket')) {
      if (byKey.size === 1 && le !== '+Inf') bounds.push(Number(le));
      s.cumulative.push(v.value);
    } else if (name.endsWith('_count')) s.count = v.value;
    else if (name.endsWith('_sum')) s.sum = v.value;
  }
  const series = [...byKey.values()].map((s) => {
    const buckets = Array.from({ length: bounds.length + 1 }, (_, i) => (s.cumulative[i] ?? s.count) - (i === 0 ? 0 : (s.cumulative[i - 1] ?? s.count)));
    return { labels: s.labels, buckets, sum: s.sum, count: s.count };
  });
  return { bounds, series };
}

/**
 * Keeps every metric's registered name so a text scrape can follow an OpenMetrics one on the same
 * registry: prom-client 15's `Registry.metrics()` strips `_total` from counter names in place when
 * it writes OpenMetrics (lib/registry.js) and never puts it back.
 */
export class MetricNames {
  readonly #names = new WeakMap<object, string>();

  /** Remember the names of metrics seen for the first time; with `restore`, put back any renamed since. */
  check(metrics: readonly object[], restore: boolean): void {
    for (const m of metrics) {
      const obj = m as { name: string };
      const original = this.#names.get(obj);
      if (original === undefined) this.#names.set(obj, obj.name);
      else if (restore) obj.name = original;
    }
  }
}
