import type { Histogram } from 'prom-client';
import { bucketCountsQuantile as quantile } from '../metrics/histogram-math';
import { DURATION_METRIC } from '../metrics/http-metrics';
import { histogramCounts } from '../metrics/prom-client-adapter';

/** Name of the request-duration histogram the route table reads. */
export { DURATION_METRIC };

/** Cumulative counters of one (method, route) at one instant. */
export interface Cell {
  readonly buckets: number[];
  count: number;
  sum: number;
  errors: number;
}

interface Snapshot {
  readonly t: number;
  readonly cells: Map<string, Cell>;
}

/** One row of the RED table. */
export interface RouteRow {
  readonly method: string;
  readonly route: string;
  /** Requests since start. */
  readonly count: number;
  /** Requests per second over the window. */
  readonly rate: number;
  /** Share of 5xx responses over the window (0..1); over all time when the window saw no request. */
  readonly errorRatio: number;
  /** Latency quantiles in seconds (window, else all time); `null` without data. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** Bucket counts of one route (window and all time), for the histogram → exemplar join. */
export interface RouteBuckets {
  readonly method: string;
  readonly route: string;
  /** Upper bounds in seconds; the last one is `Infinity` (serialised as `"+Inf"`). */
  readonly le: readonly (number | string)[];
  readonly windowCounts: readonly number[];
  readonly totalCounts: readonly number[];
}

/** Key of a (method, route) pair in a snapshot: `"GET /users/:id"`. */
export const keyOf = (method: string, route: string): string => `${method} ${route}`;

/**
 * Reads `http_server_request_duration_seconds` and keeps a short ring of snapshots so that the
 * route table shows rates, error ratios and quantiles over a sliding window.
 */
export class RouteStats {
  readonly #histogram: () => Histogram<string> | undefined;
  readonly #windowMs: number;
  readonly #snapshots: Snapshot[] = [];
  #bounds: number[] = [];

  /** `histogram` is looked up lazily so the stats work whoever registered it. */
  constructor(histogram: () => Histogram<string> | undefined, windowMs: number) {
    this.#histogram = histogram;
    this.#windowMs = windowMs;
  }

  /** Read the histogram now (its series' own counts, not its exposition: {@link histogramCounts}). */
  async read(): Promise<Map<string, Cell>> {
    const h = this.#histogram();
    const cells = new Map<string, Cell>();
    if (!h) return cells;
    const { bounds, series } = await histogramCounts(h);
    if (series.length > 0 && bounds.length > 0) this.#bounds = [...bounds];
    const width = this.#bounds.length + 1;
    for (const s of series) {
      const method = String(s.labels.method ?? '');
      const route = String(s.labels.route ?? '');
      const key = keyOf(method, route);
      let cell = cells.get(key);
      if (!cell) {
        cell = { buckets: new Array<number>(width).fill(0), count: 0, sum: 0, errors: 0 };
        cells.set(key, cell);
      }
      for (let i = 0; i < width; i++) cell.buckets[i] = (cell.buckets[i] as number) + (s.buckets[i] ?? 0);
      cell.count += s.count;
      cell.sum += s.sum;
      if (String(s.labels.status_code ?? '').startsWith('5')) cell.errors += s.count;
    }
    return cells;
  }

  /** Take a snapshot for the sliding window (called by the sampler); returns it (read-only). */
  async sample(now = Date.now()): Promise<ReadonlyMap<string, Cell>> {
    const cells = await this.read();
    this.#snapshots.push({ t: now, cells });
    while (this.#snapshots.length > 2 && (this.#snapshots[1] as Snapshot).t <= now - this.#windowMs) this.#snapshots.shift();
    return cells;
  }

  #baseline(now: number): Snapshot | undefined {
    for (const s of this.#snapshots) if (s.t >= now - this.#windowMs - 1) return s;
    return this.#snapshots[this.#snapshots.length - 1];
  }

  /** The RED table (rows unsorted). */
  async table(now = Date.now()): Promise<RouteRow[]> {
    const cells = await this.read();
    const base = this.#baseline(now);
    const dt = base ? Math.max((now - base.t) / 1000, 1) : 1;
    const rows: RouteRow[] = [];
    for (const [key, c] of cells) {
      const sp = key.indexOf(' ');
      const b = base?.cells.get(key);
      const dCount = c.count - (b?.count ?? 0);
      const dErr = c.errors - (b?.errors ?? 0);
      const dBuckets = c.buckets.map((n, i) => n - (b?.buckets[i] ?? 0));
      const useWindow = dCount > 0;
      const qb = useWindow ? dBuckets : c.buckets;
      rows.push({
        method: key.slice(0, sp),
        route: key.slice(sp + 1),
        count: c.count,
        rate: base ? dCount / dt : 0,
        errorRatio: useWindow ? dErr / dCount : c.count > 0 ? c.errors / c.count : 0,
        p50: quantile(0.5, this.#bounds, qb),
        p95: quantile(0.95, this.#bounds, qb),
        p99: quantile(0.99, this.#bounds, qb),
      });
    }
    return rows;
  }

  /** Bucket counts of one route. */
  async buckets(method: string, route: string, now = Date.now()): Promise<RouteBuckets | undefined> {
    const cells = await this.read();
    const c = cells.get(keyOf(method, route));
    if (!c) return undefined;
    const b = this.#baseline(now)?.cells.get(keyOf(method, route));
    return {
      method,
      route,
      le: [...this.#bounds, '+Inf'],
      windowCounts: c.buckets.map((n, i) => n - (b?.buckets[i] ?? 0)),
      totalCounts: [...c.buckets],
    };
  }

  /** Upper bounds (seconds) of the histogram, as last read. */
  get bounds(): readonly number[] {
    return this.#bounds;
  }
}

