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
 * Keeps the last few trace ids per (method, route, latency bucket): the histogram → trace join.
 * Fed by a request participant, so it sees exactly the requests the histogram sees.
 */
export class ExemplarIndex {
  readonly #bounds: readonly number[];
  readonly #perBucket: number;
  readonly #byKey = new Map<string, Exemplar[][]>();

  /** `bounds`: the histogram's upper bounds in seconds. */
  constructor(bounds: readonly number[], perBucket: number) {
    this.#bounds = bounds;
    this.#perBucket = perBucket;
  }

  /** Index of the bucket holding `seconds` (the last index is `+Inf`). */
  bucketOf(seconds: number): number {
    for (let i = 0; i < this.#bounds.length; i++) if (seconds <= (this.#bounds[i] as number)) return i;
    return this.#bounds.length;
  }

  /** Record one request. */
  add(method: string, route: string, seconds: number, e: Exemplar): void {
    if (this.#perBucket === 0) return;
    const key = `${method} ${route}`;
    let buckets = this.#byKey.get(key);
    if (!buckets) {
      if (this.#byKey.size >= MAX_KEYS) return;
      buckets = Array.from({ length: this.#bounds.length + 1 }, () => []);
      this.#byKey.set(key, buckets);
    }
    const ring = buckets[this.bucketOf(seconds)] as Exemplar[];
    ring.push(e);
    if (ring.length > this.#perBucket) ring.shift();
  }

  /** Exemplars of every bucket of a route (newest last), or `undefined` when the route is unknown. */
  of(method: string, route: string): readonly (readonly Exemplar[])[] | undefined {
    return this.#byKey.get(`${method} ${route}`);
  }

  /** The request participant that feeds this index. */
  participant(): RequestParticipant {
    return {
      finish: (done: CompletedRequest) => {
        const traceId = done.state.traceId;
        if (!traceId) return;
        this.add(done.method, done.route, done.durationMs / 1000, {
          traceId,
          durationMs: done.durationMs,
          status: done.status,
          timeMs: Date.now(),
        });
      },
    };
  }
}
