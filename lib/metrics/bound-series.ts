import type { Histogram } from 'prom-client';

/**
 * prom-client's per-series state of a histogram (lib/histogram.js, `createBaseValues`): what its
 * `observe()` updates and what its exposition reads. Not part of prom-client's typed API, so every
 * use below is checked first and falls back to the public `observe()` when it does not hold.
 */
interface SeriesValues {
  labels: unknown;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** The parts of a prom-client histogram instance a bound series reads. */
interface HistogramInternals {
  hashMap: Record<string, SeriesValues | undefined>;
  sortedLabelNames: readonly string[];
  upperBounds: readonly number[];
  updateExemplar?: (labels: object, value: number, exemplarLabels: Record<string, string>) => void;
}

/** Index of the histogram bucket `value` falls in (`le` semantics: the first bound ≥ value; `bounds.length` is +Inf). */
export function bucketIndex(bounds: readonly number[], value: number): number {
  for (let i = 0; i < bounds.length; i++) if (value <= (bounds[i] as number)) return i;
  return bounds.length;
}

type HashObject = (labels: object, names: readonly string[]) => string;

/** prom-client's own series-key function, when its module layout is the one we know (else undefined). */
const hashObject: HashObject | undefined = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const util = require('prom-client/lib/util') as { hashObject?: unknown };
    return typeof util.hashObject === 'function' ? (util.hashObject as HashObject) : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * One label set of a prom-client histogram, bound once so that an observation is a few additions
 * into prom-client's own series state instead of prom-client's generic `observe(labels, value)`,
 * which per call builds a closure and a wrapper object, validates every label, concatenates the
 * series key and converts the bucket bound to a string twice (docs/performance.md).
 *
 * Exposition, `reset()`, `remove()`, `zero()`, cluster aggregation: all stay prom-client's. The
 * bound entry is re-checked on every observation (same hash map, same entry under the series key);
 * when prom-client replaced or removed it (a registry reset, say) the observation goes through the
 * public `observe()`, which recreates the series, and the next one binds again. If prom-client's
 * internals are not the ones this was written against, every observation uses the public API.
 */
export class BoundHistogramSeries {
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

  /** Bind `labels` (kept by reference: pass a frozen object) of `hist`. */
  constructor(hist: Histogram<string>, labels: Readonly<Record<string, string>>) {
    this.#hist = hist;
    this.#internals = hist as unknown as HistogramInternals;
    this.#labels = labels;
    this.#exemplars = (hist as unknown as { enableExemplars?: boolean }).enableExemplars === true;
    const bounds = this.#internals.upperBounds;
    this.#bounds = Array.isArray(bounds) ? bounds : [];
    this.#keys = this.#bounds.map(String);
    if (hashObject && Array.isArray(this.#internals.sortedLabelNames)) {
      try {
        this.#key = hashObject(labels, this.#internals.sortedLabelNames);
      } catch {
        this.#key = undefined;
      }
    }
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

  /**
   * Observe `value`; `exemplar` (labels such as `{ trace_id }`) is attached to its bucket when given.
   * `bucket` is `bucketIndex(bounds, value)` when the caller already computed it over the same bounds.
   */
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
