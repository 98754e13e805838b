import { keyOf, type Cell } from './route-stats';
import { bucketCountsQuantile as quantile } from '../metrics/histogram-math';

/** One point of the request charts: the requests that finished during one bucket. */
export interface ChartPoint {
  /** End of the bucket, epoch ms. */
  readonly t: number;
  /** Requests that finished during the bucket. */
  readonly count: number;
  /** Requests per second over the bucket. */
  readonly rate: number;
  /** Share of 5xx responses (0..1); `null` when the bucket saw no request. */
  readonly errorRatio: number | null;
  /** Latency quantiles in seconds (Prometheus-style interpolation); `null` without requests. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** `GET dashboard/api/charts`: the points of all routes together, or of one `method route`. */
export interface ChartSeries {
  /** Width of one bucket, ms. */
  readonly resolutionMs: number;
  /** Time span the points cover at most, ms. */
  readonly windowMs: number;
  /** The route shown, or `undefined` for all routes together. */
  readonly method: string | undefined;
  readonly route: string | undefined;
  /** Oldest first; buckets without requests are points with rate 0 and `null` ratios. */
  readonly points: readonly ChartPoint[];
}

/** Requests of one route (or of all) during one bucket, with the quantiles computed when it closed. */
interface Stat {
  readonly n: number;
  readonly errors: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

interface Bucket {
  readonly t: number;
  readonly seconds: number;
  readonly all: Stat;
  /** Only the routes that saw requests in this bucket. */
  readonly routes: ReadonlyMap<string, Stat>;
}

function stat(n: number, errors: number, bounds: readonly number[], counts: readonly number[]): Stat {
  return { n, errors, p50: quantile(0.5, bounds, counts), p95: quantile(0.95, bounds, counts), p99: quantile(0.99, bounds, counts) };
}

/**
 * The request charts' history: fed with the cumulative histogram snapshots the dashboard sampler
 * already takes, it keeps one small record per bucket (`resolutionMs`) and per route that saw
 * requests in it, for `windowMs`. Nothing happens per request.
 */
export class RequestHistory {
  readonly #resolutionMs: number;
  readonly #windowMs: number;
  readonly #buckets: Bucket[] = [];
  #base: { readonly t: number; readonly cells: ReadonlyMap<string, Cell> } | undefined;

  /** Buckets of `resolutionMs`, kept for `windowMs`. */
  constructor(resolutionMs: number, windowMs: number) {
    this.#resolutionMs = resolutionMs;
    this.#windowMs = windowMs;
  }

  /**
   * Feed the snapshot taken at `t` (`bounds`: the histogram's finite upper bounds). The first
   * snapshot after a bucket boundary closes the bucket that began at the previous boundary's snapshot.
   */
  add(t: number, cells: ReadonlyMap<string, Cell>, bounds: readonly number[]): void {
    const base = this.#base;
    if (base !== undefined && Math.floor(t / this.#resolutionMs) === Math.floor(base.t / this.#resolutionMs)) return;
    this.#base = { t, cells };
    if (base === undefined || t <= base.t) return;
    this.#buckets.push(this.#close(base.t, base.cells, t, cells, bounds));
    while ((this.#buckets[0] as Bucket).t <= t - this.#windowMs) this.#buckets.shift();
  }

  #close(t0: number, before: ReadonlyMap<string, Cell>, t: number, cells: ReadonlyMap<string, Cell>, bounds: readonly number[]): Bucket {
    const all = new Array<number>(bounds.length + 1).fill(0);
    let n = 0;
    let errors = 0;
    const routes = new Map<string, Stat>();
    for (const [key, c] of cells) {
      const b = before.get(key);
      // A count that went down was reset (a new process would be a new history): count from zero.
      const prev = b !== undefined && b.count <= c.count ? b : undefined;
      const dn = c.count - (prev?.count ?? 0);
      if (dn <= 0) continue;
      const de = c.errors - (prev?.errors ?? 0);
      const counts = c.buckets.map((x, i) => x - (prev?.buckets[i] ?? 0));
      for (let i = 0; i < counts.length && i < all.length; i++) all[i] = (all[i] as number) + (counts[i] as number);
      n += dn;
      errors += de;
      routes.set(key, stat(dn, de, bounds, counts));
    }
    return { t, seconds: (t - t0) / 1000, all: stat(n, errors, bounds, all), routes };
  }

  /** The points of every route together, or of `method route` when both are given. */
  series(method?: string, route?: string, now = Date.now()): ChartSeries {
    const key = method !== undefined && route !== undefined ? keyOf(method, route) : undefined;
    const points: ChartPoint[] = [];
    for (const b of this.#buckets) {
      if (b.t <= now - this.#windowMs) continue;
      const s = key === undefined ? b.all : b.routes.get(key);
      points.push(
        s === undefined || s.n === 0
          ? { t: b.t, count: 0, rate: 0, errorRatio: null, p50: null, p95: null, p99: null }
          : { t: b.t, count: s.n, rate: s.n / b.seconds, errorRatio: s.errors / s.n, p50: s.p50, p95: s.p95, p99: s.p99 },
      );
    }
    return { resolutionMs: this.#resolutionMs, windowMs: this.#windowMs, method: key === undefined ? undefined : method, route: key === undefined ? undefined : route, points };
  }
}
