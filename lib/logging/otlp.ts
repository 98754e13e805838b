/**
 * Log shipping over OTLP/HTTP: a winston transport turning each entry (access lines included) into an
 * OpenTelemetry log record, batched by the SDK's BatchLogRecordProcessor and sent by the OTLP log
 * exporter of the chosen encoding. Loaded only when logs go over OTLP (`setup.ts` requires it lazily).
 */
import { ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import type { LogAttributes, Logger, LogRecord as OtelLogRecord } from '@opentelemetry/api-logs';
import type { Resource } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import TransportStream from 'winston-transport';
import type { MetricsCollector } from '../metrics/collector';
import { createLogExporter } from '../otlp/exporters';
import { processorMeterProvider } from '../otlp/processor-metrics';
import { foreignRecord, recordOf, type AccessFacts, type LogRecord } from './record';
import { PipelineMetrics, type PipelineSnapshot } from './pipeline-metrics';
import type { ResolvedOtlpLogsOptions } from './otlp-options';
import type { ShipperShutdown } from './shipper';
import { TIMED_OUT, withDeadline } from '../util/deadline';

/** What the transport needs from its instance. */
export interface OtlpLogSettings {
  readonly options: ResolvedOtlpLogsOptions;
  /** The resource of the instance's spans. */
  readonly resource: Resource;
  /** Version of the instrumentation scope (`express-observability`). */
  readonly scopeVersion: string;
  readonly metrics: MetricsCollector;
  readonly reportError: (component: string, err: unknown) => void;
}

/** OpenTelemetry `SeverityNumber` per level (ERROR, WARN, INFO, DEBUG). */
const SEVERITY: Readonly<Record<string, number>> = { error: 17, warn: 13, info: 9, debug: 5 };

/** Line fields that are record fields (timestamp, severity, body, trace context) or resource (`service`), not attributes. */
const RESERVED = new Set(['timestamp', 'level', 'message', 'service', 'trace_id', 'span_id']);

/** The trace context of a line: its span's ids and flags (ids bound by `req.log` are those of a sampled span). */
function contextOf(r: LogRecord): Context {
  const { traceId, spanId } = r;
  if (traceId === undefined || spanId === undefined) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: r.traceFlags ?? TraceFlags.SAMPLED, isRemote: false });
}

/** A serialised error (`{ name, message, stack, ...}`) as `exception.*` attributes; other own fields stay under `error`. */
function addException(a: LogAttributes, err: unknown): void {
  if (err === null || typeof err !== 'object' || Array.isArray(err)) {
    a.error = err as LogAttributes[string];
    return;
  }
  const { name, message, stack, ...rest } = err as Record<string, unknown>;
  if (typeof name === 'string') a['exception.type'] = name;
  if (typeof message === 'string') a['exception.message'] = message;
  if (typeof stack === 'string') a['exception.stacktrace'] = stack;
  if (Object.keys(rest).length > 0) a.error = rest as LogAttributes[string];
}

/** Attributes of an access line: the stable HTTP semantic conventions, plus the line's own `type`, `duration_ms`, `aborted`. */
function accessAttributes(x: AccessFacts, error: unknown): LogAttributes {
  const a: LogAttributes = { type: 'access', 'http.request.method': x.method };
  if (x.route.startsWith('/')) a['http.route'] = x.route;
  const url = x.path;
  const q = url.indexOf('?');
  a['url.path'] = q === -1 ? url : url.slice(0, q);
  if (q !== -1) a['url.query'] = url.slice(q + 1);
  a['http.response.status_code'] = x.status;
  a.duration_ms = x.durationMs;
  if (x.responseBytes !== undefined) a['http.response.body.size'] = x.responseBytes;
  if (x.clientAddress !== undefined) a['client.address'] = x.clientAddress;
  if (x.userAgent !== undefined) a['user_agent.original'] = x.userAgent;
  if (x.aborted) a.aborted = true;
  if (error !== undefined) addException(a, error);
  return a;
}

/** Attributes of any other line: the caller's fields (already redacted and JSON-safe), an error (under `error`) as `exception.*`. */
function fieldAttributes(r: LogRecord): LogAttributes {
  const a: LogAttributes = {};
  const f = r.fields;
  for (const key in f) {
    if (RESERVED.has(key)) continue;
    if (key === 'error') addException(a, f.error);
    else a[key] = f[key] as LogAttributes[string];
  }
  if (r.error !== undefined) {
    if (r.errorKey === 'error') addException(a, r.error);
    else a.err = r.error as LogAttributes[string];
  }
  return a;
}

/** The OpenTelemetry log record of a line. */
export function toLogRecord(r: LogRecord): OtelLogRecord {
  const ms = Date.parse(r.timestamp);
  return {
    timestamp: new Date(Number.isFinite(ms) ? ms : Date.now()),
    severityNumber: SEVERITY[r.level] ?? 0,
    severityText: r.level,
    body: r.message,
    attributes: r.access === undefined ? fieldAttributes(r) : accessAttributes(r.access, r.error),
    context: contextOf(r),
  };
}

/**
 * Ships every entry as an OTLP log record (see the module comment). Counts on the shippers' metrics
 * with `transport="otlp"`: `observability_log_lines_shipped_total`, `observability_log_lines_dropped_total{reason}`
 * (`queue_full`, `export_failed`, `shutdown`, `unserialisable`), `observability_log_queue_lines`.
 */
export class OtlpLogTransport extends TransportStream {
  /** Transport label of the pipeline metrics. */
  readonly transportName = 'otlp';
  /** Where records are sent. */
  readonly endpoint: string;
  readonly #provider: LoggerProvider;
  readonly #logger: Logger;
  readonly #pipeline: PipelineMetrics;
  readonly #reportError: (component: string, err: unknown) => void;
  #queueLength: () => number = () => 0;
  #closed = false;
  #closing: Promise<ShipperShutdown> | undefined;

  /** Build the exporter, batch processor and logger provider; nothing is sent before the first entry. */
  constructor(s: OtlpLogSettings) {
    const o = s.options;
    super(o.level === undefined ? {} : { level: o.level });
    this.endpoint = o.endpoint;
    this.#reportError = s.reportError;
    const pipeline = new PipelineMetrics('otlp', s.metrics);
    this.#pipeline = pipeline;
    const exporter = createLogExporter(o.protocol, { url: o.endpoint, headers: o.headers, timeoutMillis: o.requestTimeoutMillis });
    const processor = new BatchLogRecordProcessor({
      exporter,
      maxQueueSize: o.maxQueueSize,
      maxExportBatchSize: o.maxExportBatchSize,
      scheduledDelayMillis: o.scheduledDelayMillis,
      exportTimeoutMillis: o.exportTimeoutMillis,
      selfObsMeterProvider: processorMeterProvider('log', {
        processed: (count, errorType) => {
          if (errorType === undefined) pipeline.shipped(count);
          else pipeline.dropped(errorType === 'queue_full' ? 'queue_full' : 'export_failed', count);
          pipeline.queue(0, this.#queueLength());
          pipeline.publish();
        },
        queueSize: (read) => {
          this.#queueLength = read;
        },
      }),
    });
    this.#provider = new LoggerProvider({ resource: s.resource, processors: [processor] });
    this.#logger = this.#provider.getLogger('express-observability', s.scopeVersion);
  }

  /** winston entry point: hand the record to the batch processor (never blocks, never throws). */
  override log(info: Record<string | symbol, unknown>, next?: () => void): void {
    if (this.#closed) {
      this.#pipeline.dropped('shutdown', 1);
    } else {
      try {
        this.#logger.emit(toLogRecord(recordOf(info) ?? foreignRecord(info as Record<string, unknown>)));
      } catch (err) {
        this.#pipeline.dropped('unserialisable', 1);
        this.#reportError('otlp-log-transport', err);
      }
    }
    if (next) next();
  }

  /** Pipeline counts of this transport (queue bytes are not tracked: always 0). */
  stats(): PipelineSnapshot {
    this.#pipeline.queue(0, this.#queueLength());
    return this.#pipeline.snapshot();
  }

  /** Export what is queued now. */
  flush(): Promise<void> {
    return this.#provider.forceFlush();
  }

  /**
   * Flush within `timeoutMs`, then count what is still queued as dropped (`shutdown`) and stop; resolves
   * to what the drain lost (still queued at the deadline, or refused by the collector meanwhile). Idempotent.
   */
  shutdown(timeoutMs = 10_000): Promise<ShipperShutdown> {
    this.#closing ??= this.#shutdown(timeoutMs);
    return this.#closing;
  }

  /** A forced end: stop taking lines; what is queued is lost. */
  abandon(): ShipperShutdown {
    this.#closed = true;
    const lost = this.#queueLength();
    if (lost > 0) this.#pipeline.dropped('shutdown', lost);
    return { transport: 'otlp', lost, kept: 0, spoolDir: undefined };
  }

  async #shutdown(timeoutMs: number): Promise<ShipperShutdown> {
    // The processor takes nothing once its shutdown began: later lines are counted here instead.
    this.#closed = true;
    const droppedBefore = this.#pipeline.snapshot().droppedTotal;
    if ((await withDeadline(this.#provider.shutdown(), timeoutMs)) === TIMED_OUT) this.#pipeline.dropped('shutdown', this.#queueLength());
    return { transport: 'otlp', lost: this.#pipeline.snapshot().droppedTotal - droppedBefore, kept: 0, spoolDir: undefined };
  }

  /** winston calls this when the logger closes: flush with the default timeout. */
  override close(): void {
    this.shutdown().then(
      () => undefined,
      (err: unknown) => this.#reportError('otlp-log-transport', err),
    );
  }
}
