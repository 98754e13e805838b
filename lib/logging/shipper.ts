/** The winston transport both shippers extend: entry conversion in, the shared {@link BatchQueue} out. */
import TransportStream from 'winston-transport';
import type { Registry } from 'prom-client';
import { isoNow } from '../util/clock';
import { MetricsCollector } from '../metrics/collector';
import { Redactor } from '../redaction/redactor';
import { BatchQueue, type BatchOutcome, type QueuedEntry } from './batch-queue';
import { HttpPoster } from './http-post';
import { foreignRecord, recordOf, type LogRecord } from './record';
import { PipelineMetrics, type PipelineSnapshot } from './pipeline-metrics';
import { sanitize } from './serialize';
import type { DeadLetter, ResolvedShipperOptions } from './shipper-options';
import type { SlabRange } from './slab';
import { Spool, type SpoolRef } from './spool';
import type { SpoolDirectory } from './spool-dir';
import { warn, warnFailure } from '../util/warn';

/** What `createObservability` hands a transport it builds (standalone users pass `registry` in the options instead). */
export interface ShipperInternals {
  readonly metrics?: MetricsCollector;
  readonly reportError?: (component: string, err: unknown) => void;
  /** Redaction of entries that did not come through the instance's logger. Default: the built-in policy. */
  readonly redactor?: Redactor;
  /** The instance's spool directory (`logging.spool`): lines are spooled there before they count as accepted. */
  readonly spool?: SpoolDirectory;
}

/** How a transport's `shutdown()` ended. */
export interface ShipperShutdown {
  /** Transport label (`elasticsearch`, `loki`). */
  readonly transport: string;
  /** Lines that will never arrive because the drain ended first (counted as `reason="shutdown"`, dead-lettered). */
  readonly lost: number;
  /** Lines left undelivered but kept in the spool for the next start. */
  readonly kept: number;
  /** The spool directory of this transport, if any. */
  readonly spoolDir: string | undefined;
}

/** An entry of a shipping queue: the serialised line plus what the backend needs. */
export interface ShippedEntry extends QueuedEntry, SpoolRef {
  /** The line / document as sent (what a dead letter carries). */
  readonly line: string;
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
  #closing: Promise<ShipperShutdown> | undefined;
  readonly #spool: Spool | undefined;
  readonly #tick: NodeJS.Timeout | undefined;
  #kept = 0;
  #fullWarnedAt = -Infinity;

  /** Wire the queue; `registry` (standalone use) gets the pipeline metrics when no collector is passed in. */
  protected constructor(name: string, o: ResolvedShipperOptions, registry: Registry | undefined, internals: ShipperInternals) {
    super(o.level === undefined ? {} : { level: o.level });
    this.transportName = name;
    this.maxQueueBytes = o.maxQueueBytes;
    this.reportError = internals.reportError ?? warnFailure;
    this.#redactor = internals.redactor ?? new Redactor();
    this.#onDeadLetter = o.onDeadLetter;
    const collector = internals.metrics ?? (registry ? new MetricsCollector(registry) : undefined);
    this.#pipeline = new PipelineMetrics(name, collector);
    this.poster = new HttpPoster(o.url);
    const dir = internals.spool;
    // A segment is a small share of both bounds, so deleting settled ones frees space steadily.
    const segmentBytes = Math.max(4096, Math.min(4 * 1024 * 1024, Math.floor((dir?.options.maxBytes ?? 0) / 8), Math.floor(o.maxQueueBytes / 4)));
    const spool = dir ? new Spool(dir, name, segmentBytes, (err) => this.reportError(`${name}-spool`, err)) : undefined;
    this.#spool = spool;
    this.#queue = new BatchQueue<T>({
      ...o,
      send: (batch, signal) => this.sendBatch(batch, signal),
      onDrop: (items, reason, detail) => {
        spool?.settle(items);
        this.#deadLetter(items, reason, detail);
        this.settled(items);
      },
      onDelivered: (items) => {
        spool?.settle(items);
        this.settled(items);
      },
      metrics: this.#pipeline,
      ...(spool
        ? {
            keep: (items: readonly T[]) => {
              const lost = items.filter((it) => it.seg === undefined);
              this.#kept += items.length - lost.length;
              return lost;
            },
          }
        : {}),
    });
    if (spool) {
      // The first replay runs on the first tick: subclasses are not initialised inside this constructor.
      this.#tick = setInterval(() => this.#onTick(), dir?.options.syncMs || 200);
      this.#tick.unref();
      this.#pipeline.spool(spool.stats());
    }
  }

  /** The bytes a line is spooled as (a range of a buffer the transport owns). */
  protected abstract spoolRecord(entry: T): SlabRange;

  /** Rebuild a queue entry from its spooled bytes (at replay). */
  protected abstract fromSpool(buf: Buffer, start: number, end: number): T;

  /** Spool interval: write buffered records, refresh the gauges, replay more of the backlog when the queue has room. */
  #onTick(): void {
    const spool = this.#spool as Spool;
    spool.write();
    this.#replay();
    this.#pipeline.spool(spool.stats());
  }

  /**
   * Queue the segments on disk only (left by an earlier process, or written while the queue was full),
   * oldest first, as long as the queue has room for the next one; then the disk-only segment being written.
   */
  #replay(): void {
    const spool = this.#spool as Spool;
    for (;;) {
      const next = spool.backlogBytes;
      if (next === undefined) {
        if (!spool.overflowing || (this.#queue.size > 0 && !this.#queue.wouldAccept(spool.overflowBytes))) return;
        spool.endOverflow();
        if (spool.backlogBytes === undefined) return;
        continue;
      }
      if (this.#queue.size > 0 && !this.#queue.wouldAccept(next)) return;
      const got = spool.readBacklog();
      if (!got) return;
      if (got.torn) {
        this.#pipeline.dropped('spool_torn', 1);
        this.reportError(`${this.transportName}-spool`, new Error(`${got.seg.path} ends in a torn record (a crash during a write): skipped`));
      }
      for (const r of got.records) {
        try {
          const entry = this.fromSpool(r.buf, r.start, r.end);
          entry.seg = got.seg;
          entry.ord = r.ord;
          this.#queue.push(entry, true);
        } catch (err) {
          this.#pipeline.dropped('spool_torn', 1);
          spool.settle([{ seg: got.seg, ord: r.ord }]);
          this.reportError(`${this.transportName}-spool`, err);
        }
      }
    }
  }

  /** The spool had no room: drop, count, dead-letter, and warn (at most once a minute). */
  #spoolFull(entry: T): void {
    const detail = `spool ${this.#spool?.path} is full (logging.spool.maxBytes)`;
    this.#pipeline.dropped('spool_full', 1);
    this.#deadLetter([entry], 'spool_full', detail);
    const now = Date.now();
    if (now - this.#fullWarnedAt < 60_000) return;
    this.#fullWarnedAt = now;
    warn(`${this.transportName}: ${detail}; new lines are dropped and counted in observability_log_lines_dropped_total{reason="spool_full"}`);
  }

  /** Encode a line's record into a queue entry. */
  protected abstract toEntry(record: LogRecord): T;

  /**
   * Entries that left the queue for good (delivered, or dropped and dead-lettered): nothing refers to
   * them any more, so a transport may reuse them for later lines. Default: nothing.
   */
  protected settled(_items: readonly T[]): void {}

  /** Send one batch to the backend. */
  protected abstract sendBatch(batch: readonly T[], signal: AbortSignal): Promise<BatchOutcome<T>>;

  /** winston entry point: queue the line (never blocks, never throws). */
  override log(info: Record<string | symbol, unknown>, next?: () => void): void {
    try {
      const entry = this.toEntry(this.#record(info));
      const spool = this.#spool;
      if (spool !== undefined && this.#queue.accepting) {
        // Memory queue full (or lines already waiting on disk only): the line goes to disk only and is
        // queued when its segment is read back.
        const diskOnly = spool.overflowing || !this.#queue.wouldAccept(entry.bytes);
        const r = this.spoolRecord(entry);
        if (!spool.append(r.buf, r.start, r.end, entry, diskOnly)) this.#spoolFull(entry);
        else if (!diskOnly) this.#queue.push(entry);
      } else {
        this.#queue.push(entry);
      }
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

  /**
   * Drain within `timeoutMs`; what is left then stays in the spool if there is one, else is dropped
   * (`shutdown`) and dead-lettered. Releases sockets and spool files. Idempotent.
   */
  shutdown(timeoutMs = 10_000): Promise<ShipperShutdown> {
    this.#closing ??= this.#shutdown(timeoutMs);
    return this.#closing;
  }

  /**
   * The process exits now (a forced shutdown): what is still undelivered is kept in the spool or
   * dropped (`shutdown`) and dead-lettered at once; the spool is synced and closed.
   */
  abandon(): ShipperShutdown {
    const lostBefore = this.#pipeline.snapshot().dropped.shutdown ?? 0;
    if (this.#tick) clearInterval(this.#tick);
    this.#queue.abandon('the shutdown was forced before it was delivered');
    this.poster.close();
    this.#spool?.close();
    const lost = (this.#pipeline.snapshot().dropped.shutdown ?? 0) - lostBefore;
    return { transport: this.transportName, lost, kept: this.#kept + (this.#spool?.unqueued ?? 0), spoolDir: this.#spool?.path };
  }

  async #shutdown(timeoutMs: number): Promise<ShipperShutdown> {
    const lostBefore = this.#pipeline.snapshot().dropped.shutdown ?? 0;
    const spool = this.#spool;
    if (this.#tick) clearInterval(this.#tick);
    spool?.write();
    try {
      await this.#queue.close(timeoutMs);
    } finally {
      this.poster.close();
      if (spool) {
        spool.close();
        this.#pipeline.spool(spool.stats());
      }
    }
    const lost = (this.#pipeline.snapshot().dropped.shutdown ?? 0) - lostBefore;
    return { transport: this.transportName, lost, kept: this.#kept + (spool?.unqueued ?? 0), spoolDir: spool?.path };
  }

  /** winston calls this when the logger closes: drain with the default timeout. */
  override close(): void {
    this.shutdown().catch((err: unknown) => this.reportError(`${this.transportName}-transport`, err));
  }

  /** The record of a line from the package's logger; any other info object is sanitised and redacted first. */
  #record(info: Record<string | symbol, unknown>): LogRecord {
    const own = recordOf(info);
    if (own !== undefined) return own;
    const out = sanitize(info, this.#redactor) as Record<string, unknown>;
    const copy: Record<string, unknown> = { ...out, level: String(info.level), message: typeof out.message === 'string' ? out.message : '' };
    if (typeof copy.timestamp !== 'string') copy.timestamp = isoNow();
    return foreignRecord(copy);
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
