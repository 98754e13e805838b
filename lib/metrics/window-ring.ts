/**
 * Windowed increases of counters: a bounded ring of cumulative samples (counter values
 * keyed by name) covering one window, enough to compute the increase of each key over the
 * window without keeping the whole history. At most `maxPoints` samples are kept, one per
 * `window / maxPoints`, whatever the sampling interval.
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

/**
 * Increase of each key of `current` since `base`, as Prometheus's `increase()` reads a
 * counter: a value below its base means the counter was reset, so it counts from zero.
 */
export function increaseSince(current: Sample, base: Sample): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of current) {
    const b = base.get(k) ?? 0;
    out.set(k, v >= b ? v - b : v);
  }
  return out;
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
    return { delta: increaseSince(current, base.v), spanMs: t - base.t, full: base.t <= t - this.windowMs };
  }

  /** {@link delta} of `current`, then {@link push} it: one evaluation step. */
  advance(t: number, current: Sample): WindowDelta | undefined {
    const d = this.delta(t, current);
    this.push(t, current);
    return d;
  }
}
