/**
 * Histogram arithmetic shared by the alert evaluator and the dashboard: `histogram_quantile`
 * exactly as Prometheus computes it, over cumulative buckets or over per-bucket counts.
 */

/** One cumulative bucket: how many observations were at most `le` (`Infinity` for `+Inf`). */
export interface CumulativeBucket {
  readonly le: number;
  readonly count: number;
}

/**
 * `histogram_quantile` as Prometheus computes it: linear interpolation inside the
 * bucket holding the rank, the highest finite bound when it falls in `+Inf`,
 * NaN without observations.
 */
export function histogramQuantile(q: number, buckets: readonly CumulativeBucket[]): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const b = [...buckets].sort((x, y) => x.le - y.le);
  if (b.length < 2 || b[b.length - 1]?.le !== Infinity) return NaN;
  let max = 0;
  const counts = b.map((x) => (max = Math.max(max, x.count))); // force monotonic, as Prometheus does
  const observations = counts[counts.length - 1] as number;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let i = counts.findIndex((c) => c >= rank);
  if (i === -1) i = counts.length - 1;
  if (i === b.length - 1) return (b[b.length - 2] as { le: number }).le;
  const upper = (b[i] as { le: number }).le;
  if (i === 0 && upper <= 0) return upper;
  let start = 0;
  let count = counts[i] as number;
  if (i > 0) {
    start = (b[i - 1] as { le: number }).le;
    count -= counts[i - 1] as number;
    rank -= counts[i - 1] as number;
  }
  return start + (upper - start) * (rank / count);
}

/**
 * {@link histogramQuantile} over per-bucket (non-cumulative) counts: `counts[i]` observations
 * fell in `(bounds[i - 1], bounds[i]]`, the last slot (`counts[bounds.length]`) in `+Inf`.
 * `null` where Prometheus gives NaN (no observations, no finite bound).
 */
export function bucketCountsQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  let cumulative = 0;
  const buckets = counts.map((c, i) => ({ le: i < bounds.length ? (bounds[i] as number) : Infinity, count: (cumulative += c) }));
  const v = histogramQuantile(q, buckets);
  return Number.isNaN(v) ? null : v;
}

/** Index of the histogram bucket `value` falls in (`le` semantics: the first bound ≥ value; `bounds.length` is +Inf). */
export function bucketIndex(bounds: readonly number[], value: number): number {
  for (let i = 0; i < bounds.length; i++) if (value <= (bounds[i] as number)) return i;
  return bounds.length;
}
