/** The winston transport both shippers extend: entry conversion in, the shared {@link BatchQueue} out. */
import TransportStream from 'winston-transport';
import type { Registry } from 'prom-client';
import { MetricsCollector } from '../metrics/collector';
import { isoNow } from '../util/clock';
import { Redactor } from '../redaction/redactor';
import { BatchQueue, type BatchOutcome, type QueuedEntry } from './batch-queue';
import { HttpPoster } from './http-post';
import { SAFE, type LogInfo } from './levels';
import { PipelineMetrics, type PipelineSnapshot } from './pipeline-metrics';
import { sanitize } from './serialize';
import type { DeadLetter, ResolvedShipperOptions } from './shipper-options';

/** What `createObservability` hands a transport it builds (standalone users pass `registry` in the options instead). */
export interface ShipperInternals {
  readonly metrics?: MetricsCollector;
  readonly reportError?: (component: string, err: unknown) => void;
  /** Redaction of entries that did not come through the instance's logger. Default: the built-in policy. */
  readonly redactor?: Redactor;
}

/** An entry of a shipping queue: the serialised line plus what the backend needs. */
export interface ShippedEntry extends QueuedEntry {
  /** The line / document as sent (what a dead letter carries). */
  readonly line: string;
}

/** Default failure reporter of standalone transports. */
function warn(component: string, err: unknown): void {
  process.emitWarning(`express-observability: ${component} failed: ${err instanceof Error ? err.message : String(err)}`, {
    code: 'EXPRESS_OBSERVABILITY',
  });
}

/** Base of the Elasticsearch and Loki transports. */
export abstract class ShippingTransport<T extends ShippedEntry> extends TransportStream {
  /** Transport label of the pipeline metrics (`elasticsearch`, `loki`). */
  readonly transportName: string;
  /** The queue bound in bytes (`maxQueueBytes`). */
  readonly maxQueueBytes: number;
  protected readonly poster: HttpPoster;
  protected readonly reportError: (component: string, err: unknown) => void;
  readonly #queue: BatchQueue<T>;
  readonly #pipeline: PipelineMetrics;
  readonly #redactor: Redactor;
  readonly #onDeadLetter: ((lines: readonly DeadLetter[]) => void) | undefined;
  #closing: Promise<void> | undefined;

  /** Wire the queue; `registry` (standalone use) gets the pipeline metrics when no collector is passed in. */
  protected constructor(name: string, o: ResolvedShipperOptions, registry: Registry | undefined, internals: ShipperInternals) {
    super(o.level === undefined ? {} : { level: o.level });
    this.transportName = name;
    this.maxQueueBytes = o.maxQueueBytes;
    this.reportError = internals.reportError ?? warn;
    this.#redactor = internals.redactor ?? new Redactor();
    this.#onDeadLetter = o.onDeadLetter;
    const collector = internals.metrics ?? (registry ? new MetricsCollector(registry) : undefined);
    this.#pipeline = new PipelineMetrics(name, collector);
    this.poster = new HttpPoster(o.url);
    this.#queue = new BatchQueue<T>({
      ...o,
      send: (batch, signal) => this.sendBatch(batch, signal),
      onDrop: (items, reason, detail) => this.#deadLetter(items, reason, detail),
      metrics: this.#pipeline,
    });
  }

  /** Turn a (redacted, JSON-safe) info object into a queue entry. */
  protected abstract toEntry(info: LogInfo): T;

  /** Send one batch to the backend. */
  protected abstract sendBatch(batch: readonly T[], signal: AbortSignal): Promise<BatchOutcome<T>>;

  /** winston entry point: queue the line (never blocks, never throws). */
  override log(info: Record<string | symbol, unknown>, next?: () => void): void {
    try {
      this.#queue.push(this.toEntry(this.#safe(info)));
    } catch (err) {
      this.#pipeline.dropped('unserialisable', 1);
      this.reportError(`${this.transportName}-transport`, err);
    }
    if (next) next();
  }

  /** Pipeline counts of this transport. */
  stats(): PipelineSnapshot {
    return this.#pipeline.snapshot();
  }

  /** Send everything queued; resolves when the queue is empty. */
  flush(): Promise<void> {
    return this.#queue.flush();
  }

  /** Drain within `timeoutMs`, then account for what is left as dropped (`shutdown`) and release sockets. Idempotent. */
  shutdown(timeoutMs = 10_000): Promise<void> {
    this.#closing ??= this.#queue.close(timeoutMs).finally(() => this.poster.close());
    return this.#closing;
  }

  /** winston calls this when the logger closes: drain with the default timeout. */
  override close(): void {
    this.shutdown().catch((err: unknown) => this.reportError(`${this.transportName}-transport`, err));
  }

  /** Info objects from our own format are safe already; anything else is sanitised and redacted here. */
  #safe(info: Record<string | symbol, unknown>): LogInfo {
    if (info[SAFE] === true) return info as LogInfo;
    const out = sanitize(info, this.#redactor) as Record<string, unknown>;
    const copy: LogInfo = { ...out, level: String(info.level), message: typeof out.message === 'string' ? out.message : '' };
    if (typeof copy.timestamp !== 'string') copy.timestamp = isoNow();
    return copy;
  }

  #deadLetter(items: readonly T[], reason: string, detail: string): void {
    const cb = this.#onDeadLetter;
    if (!cb) return;
    try {
      cb(items.map((it) => ({ line: it.line, reason, detail })));
    } catch (err) {
      this.reportError(`${this.transportName}-dead-letter`, err);
    }
  }
}
