import { readBool, readNumber, readSection, readString, typeError } from '../util/validate';

/**
 * Cluster mode (`cluster` key of `createObservability()`): in a Node `cluster` (or PM2 cluster)
 * worker, `/metrics` answers for the whole set of workers on the app's own port. The primary
 * process must call `setupClusterPrimary()` once.
 */
export interface ClusterOptions {
  /** Aggregate `/metrics` across the cluster's workers. Default `false`; ignored outside a cluster worker. */
  readonly enabled?: boolean;
  /** How long the primary waits for each worker's metrics; a worker that does not answer in time is left out of that scrape. Default `2000`. */
  readonly timeoutMs?: number;
  /** Label that keeps per-worker series apart (process metrics and gauges). Default `"worker"`. */
  readonly workerLabel?: string;
}

/** Cluster options with defaults resolved. */
export interface ResolvedClusterOptions {
  readonly enabled: boolean;
  readonly timeoutMs: number;
  readonly workerLabel: string;
}

const CLUSTER_KEYS = ['enabled', 'timeoutMs', 'workerLabel'] as const;

/** Validate the `cluster` section and resolve its defaults. */
export function resolveClusterOptions(value: unknown): ResolvedClusterOptions {
  const c = readSection(value, 'cluster', CLUSTER_KEYS);
  const workerLabel = readString(c, 'workerLabel', 'cluster', 'worker');
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(workerLabel) || workerLabel.startsWith('__')) typeError('cluster.workerLabel', 'a valid label name', workerLabel);
  return Object.freeze({
    enabled: readBool(c, 'enabled', 'cluster', false),
    timeoutMs: readNumber(c, 'timeoutMs', 'cluster', 2000, { min: 1, max: 120_000, integer: true }),
    workerLabel,
  });
}
