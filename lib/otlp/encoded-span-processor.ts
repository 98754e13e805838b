/**
 * The batch span processor of the OTLP/protobuf export: the OpenTelemetry SDK's `BatchSpanProcessor`
 * behaviour (queue bound, batch size, scheduled delay, export timeout, one export at a time, flush
 * on `forceFlush()` and `shutdown()`), except that each sampled span is encoded as it ends and waits
 * for export as bytes in a shared buffer outside the JavaScript heap, instead of as an SDK span
 * object. A queued SDK span held ~1.1 KB of heap that survived every young-generation collection
 * until its batch left, which is what grew the young generation under load (docs/performance.md,
 * "Garbage, memory and start-up"). The exporter (the OpenTelemetry OTLP/HTTP export delegate:
 * transport, retries, compression, TLS, `OTEL_EXPORTER_OTLP_*`) only frames the bytes
 * ({@link encodeTraceRequest}).
 */
import { context, ROOT_CONTEXT, TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { encodedSpan, type ProtoWriter, type EncodedScopeSpans, type EncodedSpanBatch } from './span-encoder';

/** Where encoded batches go. */
export interface EncodedSpanExporter {
  export(batch: EncodedSpanBatch, done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/** The processor's bounds (the SDK's `BufferConfig`, resolved). */
export interface EncodedBatchSettings {
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
}

/** Spans finished: `errorType` undefined when exported, `queue_full` when dropped at the door, else why the export failed. */
export type ProcessedReport = (count: number, errorType: string | undefined) => void;

/**
 * A scope's spans in a batch being taken: the runs of bytes already closed, and the open run. Spans
 * are encoded one after the other into the shared buffers, so a batch is usually one run per scope:
 * one view of a buffer rather than one per span (each ~100 bytes of heap, alive until the export
 * request is answered).
 */
interface ScopeRun {
  readonly scope: InstrumentationScope;
  readonly spans: Uint8Array[];
  buf: Buffer;
  start: number;
  end: number;
}

/** The most spans the queue holds, whatever `maxQueueSize` says. */
const MAX_SLOTS = 1 << 20;

/** Bytes per shared buffer; a span larger than this gets a buffer of its own. */
const CHUNK = 256 * 1024;

/** See the module comment. */
export class EncodedBatchSpanProcessor implements SpanProcessor {
  readonly #exporter: EncodedSpanExporter;
  readonly #s: EncodedBatchSettings;
  readonly #processed: ProcessedReport;
  #chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  #chunkPos = 0;
  /**
   * The queue: a ring of `maxQueueSize` slots, allocated once, each span's buffer, byte range, scope
   * and resource in parallel arrays (no object per span, and no array reallocated as spans come and go).
   */
  readonly #bufs: (Buffer | undefined)[];
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  readonly #scopes: (InstrumentationScope | undefined)[];
  readonly #resources: (Resource | undefined)[];
  #head = 0;
  #count = 0;
  #exporting = false;
  #timer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  /** A processor sending to `exporter` within `settings`, reporting finished spans to `processed`. */
  constructor(exporter: EncodedSpanExporter, settings: EncodedBatchSettings, processed: ProcessedReport) {
    this.#exporter = exporter;
    // The ring's size: `OTEL_BSP_MAX_QUEUE_SIZE` may be any number; past a million spans it is capped.
    const maxQueueSize = settings.maxQueueSize >= 1 ? Math.min(Math.floor(settings.maxQueueSize), MAX_SLOTS) : 0;
    this.#s = { ...settings, maxQueueSize, maxExportBatchSize: Math.min(settings.maxExportBatchSize, maxQueueSize) };
    this.#processed = processed;
    const slots = Math.max(1, this.#s.maxQueueSize);
    this.#bufs = new Array<Buffer | undefined>(slots).fill(undefined);
    this.#starts = new Int32Array(slots);
    this.#ends = new Int32Array(slots);
    this.#scopes = new Array<InstrumentationScope | undefined>(slots).fill(undefined);
    this.#resources = new Array<Resource | undefined>(slots).fill(undefined);
  }

  /** Spans waiting for export. */
  get queued(): number {
    return this.#count;
  }

  /** Nothing to do when a span starts. */
  onStart(_span: Span, _parentContext: Context): void {
    // Spans are encoded when they end.
  }

  /** Encode a sampled span into the queue (or count it dropped when the queue is full). */
  onEnd(span: ReadableSpan): void {
    if (this.#stopping !== undefined) return;
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.#s.maxQueueSize) {
      this.#processed(1, 'queue_full');
      return;
    }
    let w: ProtoWriter;
    try {
      w = encodedSpan(span);
    } catch {
      // Nothing an SDK span can hold fails to encode; should it, the span is counted lost, never thrown into end().
      this.#processed(1, 'encode_failed');
      return;
    }
    const n = w.pos;
    if (this.#chunkPos + n > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK, n));
      this.#chunkPos = 0;
    }
    w.buf.copy(this.#chunk, this.#chunkPos, 0, n);
    const at = (this.#head + this.#count) % this.#bufs.length;
    this.#bufs[at] = this.#chunk;
    this.#starts[at] = this.#chunkPos;
    this.#ends[at] = this.#chunkPos + n;
    this.#scopes[at] = span.instrumentationScope;
    this.#resources[at] = span.resource;
    this.#count++;
    this.#chunkPos += n;
    this.#maybeStart();
  }

  /** Export everything queued now. */
  forceFlush(): Promise<void> {
    return this.#stopping ?? this.#flushAll();
  }

  /** Export everything queued, then shut the exporter down; later spans are ignored. */
  shutdown(): Promise<void> {
    this.#stopping ??= this.#flushAll().then(() => this.#exporter.shutdown());
    return this.#stopping;
  }

  #maybeStart(): void {
    if (this.#exporting) return;
    if (this.queued >= this.#s.maxExportBatchSize) {
      this.#flushInBackground();
      return;
    }
    if (this.#timer !== undefined) return;
    // Armed outside the ending span's context: a timer keeps the context it was created in, and so that span.
    this.#timer = context.with(ROOT_CONTEXT, () => setTimeout(() => this.#flushInBackground(), this.#s.scheduledDelayMillis));
    this.#timer.unref();
  }

  #flushInBackground(): void {
    this.#exporting = true;
    this.#flushOne()
      .catch(() => {
        // Counted by the export's result (or lost to the timeout, as with the SDK's processor).
      })
      .finally(() => {
        this.#exporting = false;
        if (this.queued > 0) {
          this.#clearTimer();
          this.#maybeStart();
        }
      });
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Take the next batch off the queue: the oldest spans of one resource, grouped by scope in the order they ended. */
  #take(): EncodedSpanBatch {
    const slots = this.#bufs.length;
    const resource = this.#resources[this.#head] as Resource;
    const limit = Math.min(this.#count, this.#s.maxExportBatchSize);
    const groups = new Map<InstrumentationScope, ScopeRun>();
    let n = 0;
    for (let at = this.#head; n < limit && this.#resources[at] === resource; n++, at = (at + 1) % slots) {
      const scope = this.#scopes[at] as InstrumentationScope;
      const buf = this.#bufs[at] as Buffer;
      const start = this.#starts[at] as number;
      const end = this.#ends[at] as number;
      this.#bufs[at] = undefined;
      this.#scopes[at] = undefined;
      this.#resources[at] = undefined;
      const g = groups.get(scope);
      if (g === undefined) groups.set(scope, { scope, spans: [], buf, start, end });
      else if (g.buf === buf && g.end === start) g.end = end;
      else {
        g.spans.push(g.buf.subarray(g.start, g.end));
        g.buf = buf;
        g.start = start;
        g.end = end;
      }
    }
    this.#head = (this.#head + n) % slots;
    this.#count -= n;
    const scopes: EncodedScopeSpans[] = [];
    for (const g of groups.values()) {
      g.spans.push(g.buf.subarray(g.start, g.end));
      scopes.push({ scope: g.scope, spans: g.spans });
    }
    return { resource, scopes, count: n };
  }

  #flushOne(): Promise<void> {
    this.#clearTimer();
    if (this.queued === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Timeout')), this.#s.exportTimeoutMillis);
      // The export's own HTTP request is not traced.
      context.with(suppressTracing(context.active()), () => {
        const batch = this.#take();
        const count = batch.count;
        this.#exporter.export(batch, (result) => {
          clearTimeout(timer);
          if (result.code === ExportResultCode.SUCCESS) {
            this.#processed(count, undefined);
            resolve();
          } else {
            this.#processed(count, result.error?.name ?? 'export_failed');
            reject(result.error ?? new Error('span export failed'));
          }
        });
      });
    });
  }

  #flushAll(): Promise<void> {
    const batches = Math.ceil(this.queued / this.#s.maxExportBatchSize);
    const all: Promise<void>[] = [];
    for (let i = 0; i < batches; i++) all.push(this.#flushOne());
    return Promise.all(all).then(() => undefined);
  }
}
