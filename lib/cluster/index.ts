/** Cluster mode: one `/metrics` for all workers of a Node cluster (docs/fleet.md, "Cluster mode"). */
export { setupClusterPrimary } from './primary';
export type { ClusterPrimary, ClusterPrimaryOptions } from './primary';
export { ClusterWorkerMetrics, type MetricsRenderer } from './worker';
export { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './options';
