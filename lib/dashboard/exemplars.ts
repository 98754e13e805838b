import { bucketIndex } from '../metrics/histogram-math';
import { innerMap } from '../util/maps';
import { wallClockOf } from '../util/clock';
import type { CompletedRequest, RequestParticipant } from '../middleware';

/** A traced request kept as an exemplar of a route's latency bucket. */
export interface Exemplar {
  readonly traceId: string;
  readonly durationMs: number;
  readonly status: string;
  readonly timeMs: number;
}

const MAX_KEYS = 5000;

/**
 * A bucket takes a new exemplar at most this often (5xx requests always): under load the
 * newest few exemplars of a bucket would otherwise be replaced on every request.
 */
export const DASHBOARD_EXEMPLAR_INTERVAL_MS = 100;

/**
 * Keeps the last few trace ids per (method, route, latency bucket): the histogram → trace join.
 * Fed by a request participant, so it sees exactly the requests the histogram sees.
 */
export class ExemplarIndex {
  readonly #bounds: readonly number[];
  readonly #perBucket: number;
  /** method -> route -> per-bucket rings. */
  readonly #byKey = new Map<string, Map<string, Exemplar[][]>>();
  #keys = 0;

  /** `bounds`: the histogram's upper bounds in seconds. */
  constructor(bounds: readonly number[], perBucket: number) {
    this.#bounds = bounds;
    this.#perBucket = perBucket;
  }

  /** Index of the bucket holding `seconds` (the last index is `+Inf`). */
  bucketOf(seconds: number): number {
    return bucketIndex(this.#bounds, seconds);
  }

  /** The ring of the bucket a request falls in, or `undefined` when it takes no exemplar now. */
  #ring(method: string, route: string, seconds: number, status: string, now: number): Exemplar[] | undefined {
    if (this.#perBucket === 0) return undefined;
    const routes = innerMap(this.#byKey, method);
    let buckets = routes.get(route);
    if (!buckets) {
      if (this.#keys >= MAX_KEYS) return undefined;
      buckets = Array.from({ length: this.#bounds.length + 1 }, () => []);
      routes.set(route, buckets);
      this.#keys++;
    }
    const ring = buckets[this.bucketOf(seconds)] as Exemplar[];
    if (ring.length > 0 && status.charCodeAt(0) !== 53) {
      const newest = ring[ring.length - 1] as Exemplar;
      if (now - newest.timeMs < DASHBOARD_EXEMPLAR_INTERVAL_MS) return undefined;
    }
    if (ring.length >= this.#perBucket) ring.shift();
    return ring;
  }

  /** Exemplars of every bucket of a route (newest last), or `undefined` when the route is unknown. */
  of(method: string, route: string): readonly (readonly Exemplar[])[] | undefined {
    return this.#byKey.get(method)?.get(route);
  }

  /** The request participant that feeds this index. */
  participant(): RequestParticipant {
    return {
      finish: (done: CompletedRequest) => {
        const traceId = done.state.traceId;
        // An exemplar links to a trace that exists: sampled only.
        if (!traceId || !done.state.sampled) return;
        const now = Math.floor(wallClockOf(done.end));
        const ring = this.#ring(done.method, done.route, done.durationMs / 1000, done.status, now);
        ring?.push({ traceId, durationMs: done.durationMs, status: done.status, timeMs: now });
      },
    };
  }
}
