/**
 * A bounded ring of cumulative samples (counter values keyed by name) covering one
 * window: enough to compute the increase of each key over the window without
 * keeping the whole history. At most `maxPoints` samples are kept, one per
 * `window / maxPoints`, whatever the evaluation interval.
 */

/** Cumulative values of one sample, by key. */
export type Sample = ReadonlyMap<string, number>;

/** Increase of each key over (at most) the window. */
export interface WindowDelta {
  readonly delta: ReadonlyMap<string, number>;
  /** Time actually covered, ms (shorter than the window while the process is young). */
  readonly spanMs: number;
  /** True once a sample at least one window old exists. */
  readonly full: boolean;
}

/** Ring of samples over one window. */
export class WindowRing {
  readonly #points: Array<{ readonly t: number; readonly v: Sample }> = [];
  readonly #stepMs: number;

  /** A ring for `windowMs`, at most `maxPoints` samples. */
  constructor(
    readonly windowMs: number,
    maxPoints = 120,
  ) {
    this.#stepMs = windowMs / maxPoints;
  }

  /** Record a sample taken at `t` (ms); samples closer than one step to the last are skipped. */
  push(t: number, v: Sample): void {
    const last = this.#points[this.#points.length - 1];
    if (last && t - last.t < this.#stepMs) return;
    this.#points.push({ t, v });
    // Keep exactly one point at or before the window's start: it is the base of the increase.
    while (this.#points.length > 1 && (this.#points[1] as { t: number }).t <= t - this.windowMs) this.#points.shift();
  }

  /** Increase from the window's base sample to `current` (taken at `t`); undefined before any sample. */
  delta(t: number, current: Sample): WindowDelta | undefined {
    let base = this.#points[0];
    for (const p of this.#points) {
      if (p.t <= t - this.windowMs) base = p;
      else break;
    }
    if (!base || base.t >= t) return undefined;
    const delta = new Map<string, number>();
    for (const [k, v] of current) {
      const b = base.v.get(k) ?? 0;
      // A value below its base means the counter was reset: count from zero.
      delta.set(k, v >= b ? v - b : v);
    }
    return { delta, spanMs: t - base.t, full: base.t <= t - this.windowMs };
  }
}

/**
 * `histogram_quantile` as Prometheus computes it: linear interpolation inside the
 * bucket holding the rank, the highest finite bound when it falls in `+Inf`,
 * NaN without observations.
 */
export function histogramQuantile(q: number, buckets: ReadonlyArray<{ readonly le: number; readonly count: number }>): number {
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
