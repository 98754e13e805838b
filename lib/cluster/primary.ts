import type { Worker } from 'node:cluster';
import { cumulativePart, mergeCumulative, renderAggregate } from './aggregate';
import { AGGREGATE, COLLECT, isCollectResponse, isScrapeRequest, nodeCluster, type MetricsJson, type ScrapeRequest, type ScrapeResponse } from './protocol';
import { errorMessage, warnFailure } from '../util/warn';

/** Handle returned by {@link setupClusterPrimary}. */
export interface ClusterPrimary {
  /** Stop serving aggregation requests (pending ones are answered with what arrived). */
  close(): void;
}

/** Options of {@link setupClusterPrimary}. */
export interface ClusterPrimaryOptions {
  /** Called when aggregation itself fails (a worker's own failures are counted in the output instead). Default: `process.emitWarning`. */
  readonly onError?: (err: unknown) => void;
}

interface Collection {
  readonly expected: Set<number>;
  /** Workers that answered this collection. */
  readonly answered: Set<number>;
  readonly responses: MetricsJson[];
  failed: number;
  readonly timer: NodeJS.Timeout;
  readonly finish: () => void;
}

/** Upper bound of the per-worker timeout a worker may ask for. */
const MAX_TIMEOUT_MS = 120_000;
/** Exited workers' totals are merged into one set once this many are kept apart. */
const MAX_RETIRED = 8;

/**
 * Serve cluster-wide `/metrics` from the primary of a Node `cluster`: when a worker serving a
 * scrape asks, every connected worker is asked for its registry; the ones that answer within
 * the requesting worker's `cluster.timeoutMs` are aggregated with prom-client's
 * `AggregatorRegistry` (HTTP metrics summed, per-worker metrics side by side under a worker
 * label) and the text goes back to the worker that serves the scrape. A dead or hung worker
 * only costs one timeout and shows up in `observability_cluster_workers{state="timed_out"}`.
 * The summed counters and histograms never go down: a worker that does not answer counts with its
 * last answer, and one that exited with its last answer for good (a partial drop of a summed
 * counter would read to Prometheus as a reset, and everything after it as new).
 * Call once in the primary, before or after forking.
 */
export function setupClusterPrimary(options: ClusterPrimaryOptions = {}): ClusterPrimary {
  const cluster = nodeCluster();
  if (!cluster.isPrimary) throw new Error('express-observability: setupClusterPrimary() must be called in the cluster primary process');
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new TypeError('express-observability: option "onError" of setupClusterPrimary() must be a function');
  }
  const onError =
    options.onError ??
    ((err: unknown) => warnFailure('cluster aggregation', err));
  const collections = new Map<number, Collection>();
  let nextCollect = 1;
  let closed = false;
  /** Each worker's summed counters and histograms, from its last answer. */
  const lastTotals = new Map<number, MetricsJson>();
  /** The same, of workers that exited, by worker id (`-1`: several merged). */
  let retired: Array<{ readonly id: number; readonly totals: MetricsJson }> = [];

  /**
   * The answers of a collection, plus the last totals of every worker that did not answer and of the
   * exited ones (but those that answered this collection before exiting: their answer is in already).
   */
  const withTotals = async (c: Collection): Promise<MetricsJson[]> => {
    const stale = [...lastTotals].filter(([id]) => !c.answered.has(id)).map(([, totals]) => totals);
    const gone = retired.filter((r) => !c.answered.has(r.id)).map((r) => r.totals);
    // Merged for the collections to come (no exited worker can answer one of those).
    if (retired.length > MAX_RETIRED && collections.size === 0) retired = [{ id: -1, totals: await mergeCumulative(retired.map((r) => r.totals)) }];
    return [...c.responses, ...stale, ...gone];
  };

  const reply = (worker: Worker, msg: ScrapeResponse): void => {
    if (!worker.isConnected()) return;
    worker.send(msg, undefined, (err: Error | null) => {
      if (err) onError(err);
    });
  };

  const scrape = (requester: Worker, req: ScrapeRequest): void => {
    const collectId = nextCollect++;
    const targets = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    const timeoutMs = Math.min(Math.max(1, req.timeoutMs), MAX_TIMEOUT_MS);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      const c = collections.get(collectId);
      collections.delete(collectId);
      if (!c) return;
      clearTimeout(c.timer);
      const outcome = { responded: c.responses.length, timedOut: c.expected.size, failed: c.failed };
      withTotals(c)
        .then((all) => renderAggregate(all, outcome))
        .then(
          (body) => reply(requester, { type: AGGREGATE, requestId: req.requestId, body }),
          (err: unknown) => {
            onError(err);
            reply(requester, { type: AGGREGATE, requestId: req.requestId, error: errorMessage(err) });
          },
        );
    };
    const timer = setTimeout(finish, timeoutMs);
    timer.unref();
    const c: Collection = { expected: new Set(), answered: new Set(), responses: [], failed: 0, timer, finish };
    collections.set(collectId, c);
    for (const w of targets) {
      c.expected.add(w.id);
      w.send({ type: COLLECT, collectId }, undefined, (err: Error | null) => {
        if (!err || !c.expected.delete(w.id)) return;
        c.failed++;
        if (c.expected.size === 0) finish();
      });
    }
    if (c.expected.size === 0) finish();
  };

  const onMessage = (worker: Worker, msg: unknown): void => {
    if (closed) return;
    if (isScrapeRequest(msg)) {
      scrape(worker, msg);
      return;
    }
    if (!isCollectResponse(msg)) return;
    const c = collections.get(msg.collectId);
    // Late answers (after the timeout) and duplicates are ignored.
    if (!c || !c.expected.delete(worker.id)) return;
    if (msg.metrics) {
      c.responses.push(msg.metrics);
      c.answered.add(worker.id);
      lastTotals.set(worker.id, cumulativePart(msg.metrics));
    } else c.failed++;
    if (c.expected.size === 0) c.finish();
  };
  // A worker that exits while being asked stops being waited for; its totals stay in the cluster's.
  const onExit = (worker: Worker): void => {
    const totals = lastTotals.get(worker.id);
    lastTotals.delete(worker.id);
    if (totals !== undefined) retired.push({ id: worker.id, totals });
    for (const c of [...collections.values()]) {
      if (c.expected.delete(worker.id)) {
        c.failed++;
        if (c.expected.size === 0) c.finish();
      }
    }
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return {
    close(): void {
      if (closed) return;
      for (const c of [...collections.values()]) c.finish();
      closed = true;
      cluster.removeListener('message', onMessage);
      cluster.removeListener('exit', onExit);
    },
  };
}
