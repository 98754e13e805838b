/**
 * IPC messages between cluster workers and the primary (internal). A worker serving a scrape asks
 * the primary for the cluster's metrics; the primary asks every connected worker for its own
 * registry (as prom-client JSON), waits at most the requester's timeout, aggregates and answers.
 */
import type { Cluster } from 'node:cluster';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** `node:cluster`, loaded when cluster mode is first used (it loads `node:child_process` and `node:dgram`: start-up cost). */
export function nodeCluster(): Cluster {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when used
  return require('node:cluster') as Cluster;
}

/** One registry's metrics, as `registry.getMetricsAsJSON()` returns them; `perWorker` marks those kept per worker. */
export type MetricsJson = (MetricObjectWithValues<MetricValue<string>> & { perWorker?: true })[];

const NS = 'express-observability:cluster';

/** Worker → primary: "aggregate the cluster's metrics for my scrape". */
export interface ScrapeRequest {
  readonly type: `${typeof NS}:scrape`;
  readonly requestId: number;
  readonly timeoutMs: number;
}
/** Primary → worker: "send me your registry". */
export interface CollectRequest {
  readonly type: `${typeof NS}:collect`;
  readonly collectId: number;
}
/** Worker → primary: the worker's own (already worker-labelled) metrics. */
export interface CollectResponse {
  readonly type: `${typeof NS}:metrics`;
  readonly collectId: number;
  readonly metrics?: MetricsJson;
  readonly error?: string;
}
/** Primary → worker: the aggregated exposition text for the scrape `requestId`. */
export interface ScrapeResponse {
  readonly type: `${typeof NS}:aggregate`;
  readonly requestId: number;
  readonly body?: string;
  readonly error?: string;
}

export const SCRAPE = `${NS}:scrape` as const;
export const COLLECT = `${NS}:collect` as const;
export const METRICS = `${NS}:metrics` as const;
export const AGGREGATE = `${NS}:aggregate` as const;

function typed(msg: unknown, type: string): msg is Record<string, unknown> {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === type;
}

/** Type guard of {@link ScrapeRequest}. */
export function isScrapeRequest(msg: unknown): msg is ScrapeRequest {
  return typed(msg, SCRAPE) && typeof msg.requestId === 'number' && typeof msg.timeoutMs === 'number';
}
/** Type guard of {@link CollectRequest}. */
export function isCollectRequest(msg: unknown): msg is CollectRequest {
  return typed(msg, COLLECT) && typeof msg.collectId === 'number';
}
/** Type guard of {@link CollectResponse}. */
export function isCollectResponse(msg: unknown): msg is CollectResponse {
  return typed(msg, METRICS) && typeof msg.collectId === 'number';
}
/** Type guard of {@link ScrapeResponse}. */
export function isScrapeResponse(msg: unknown): msg is ScrapeResponse {
  return typed(msg, AGGREGATE) && typeof msg.requestId === 'number';
}
