import { TEXT_CONTENT_TYPE } from '../metrics/exposition';
import type { AnyRegistry } from '../metrics/registry';
import { labelWorkerMetrics } from './aggregate';
import type { ResolvedClusterOptions } from './options';
import { isCollectRequest, isScrapeResponse, METRICS, nodeCluster, SCRAPE, type CollectResponse, type ScrapeRequest } from './protocol';
import { errorMessage } from '../util/warn';

/** What renders `/metrics`: the local exposition or the cluster's. */
export interface MetricsRenderer {
  render(format: 'openmetrics' | 'text'): Promise<{ body: string; contentType: string }>;
}

/** The pieces a cluster worker needs. */
export interface ClusterWorkerParts {
  readonly registry: AnyRegistry;
  readonly options: ResolvedClusterOptions;
  /** Prefix of prom-client's default metrics (`metrics.prefix`). */
  readonly prefix: string;
  /** Renders this worker's own registry (used outside a cluster worker). */
  readonly local: MetricsRenderer;
  readonly reportError: (component: string, err: unknown) => void;
}

interface Pending {
  resolve(body: string): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Extra time the worker gives the primary beyond the per-worker timeout before giving up. */
const PRIMARY_GRACE_MS = 1000;

/**
 * The worker side of cluster mode: answers the primary's requests for this worker's registry,
 * and renders `/metrics` by asking the primary for the whole cluster's aggregate (Prometheus
 * text; exemplars are per process and not aggregated). Outside a cluster worker it renders
 * the local registry unchanged.
 */
export class ClusterWorkerMetrics implements MetricsRenderer {
  readonly #parts: ClusterWorkerParts;
  readonly #pending = new Map<number, Pending>();
  readonly #workerId: string;
  #nextId = 1;
  #closed = false;
  readonly #onMessage = (msg: unknown): void => {
    if (isCollectRequest(msg)) this.#answerCollect(msg.collectId);
    else if (isScrapeResponse(msg)) {
      const p = this.#pending.get(msg.requestId);
      if (!p) return;
      this.#pending.delete(msg.requestId);
      clearTimeout(p.timer);
      if (msg.error !== undefined || msg.body === undefined) p.reject(new Error(`cluster aggregation failed: ${msg.error ?? 'empty answer'}`));
      else p.resolve(msg.body);
    }
  };

  /** Start answering the primary (only inside a cluster worker with an IPC channel). */
  constructor(parts: ClusterWorkerParts) {
    this.#parts = parts;
    const worker = nodeCluster().worker;
    this.#workerId = worker ? String(worker.id) : String(process.pid);
    if (this.active) process.on('message', this.#onMessage);
  }

  /** True inside a cluster worker that can talk to its primary. */
  get active(): boolean {
    return typeof process.send === 'function' && nodeCluster().isWorker;
  }

  /** The cluster's aggregated exposition (or the local one outside a cluster worker). */
  render(format: 'openmetrics' | 'text'): Promise<{ body: string; contentType: string }> {
    if (!this.active || this.#closed) return this.#parts.local.render(format);
    const requestId = this.#nextId++;
    const timeoutMs = this.#parts.options.timeoutMs;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new Error(`the cluster primary did not answer within ${timeoutMs + PRIMARY_GRACE_MS} ms (is setupClusterPrimary() called in the primary?)`));
      }, timeoutMs + PRIMARY_GRACE_MS);
      timer.unref();
      this.#pending.set(requestId, { resolve, reject, timer });
      const msg: ScrapeRequest = { type: SCRAPE, requestId, timeoutMs };
      this.#send(msg, (err) => {
        const p = this.#pending.get(requestId);
        if (!p) return;
        this.#pending.delete(requestId);
        clearTimeout(p.timer);
        p.reject(err);
      });
    }).then((body) => ({ body, contentType: TEXT_CONTENT_TYPE }));
  }

  /** Stop answering the primary; pending scrapes fail. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.removeListener('message', this.#onMessage);
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error('observability instance is shutting down'));
      this.#pending.delete(id);
    }
  }

  #answerCollect(collectId: number): void {
    const { registry, options, prefix } = this.#parts;
    registry.getMetricsAsJSON().then(
      (metrics) => {
        const labelled = labelWorkerMetrics(metrics, this.#workerId, options.workerLabel, prefix);
        this.#send({ type: METRICS, collectId, metrics: labelled } satisfies CollectResponse, (err) => this.#parts.reportError('cluster-worker', err));
      },
      (err: unknown) => {
        this.#parts.reportError('cluster-worker', err);
        this.#send({ type: METRICS, collectId, error: errorMessage(err) } satisfies CollectResponse, (e) =>
          this.#parts.reportError('cluster-worker', e),
        );
      },
    );
  }

  #send(msg: object, onError: (err: Error) => void): void {
    const send = process.send;
    if (!send || !process.connected) {
      onError(new Error('the IPC channel to the cluster primary is closed'));
      return;
    }
    send.call(process, msg, (err: Error | null) => {
      if (err) onError(err);
    });
  }
}
