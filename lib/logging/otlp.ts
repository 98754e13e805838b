/**
 * Log shipping over OTLP/HTTP: a winston transport turning each entry (access lines included) into an
 * OpenTelemetry log record, batched by the SDK's BatchLogRecordProcessor and sent by the OTLP log
 * exporter of the chosen encoding. Loaded only when logs go over OTLP (`setup.ts` requires it lazily).
 */
import { ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import type { LogAttributes, Logger, LogRecord } from '@opentelemetry/api-logs';
import type { Resource } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import TransportStream from 'winston-transport';
import type { MetricsCollector } from '../metrics/collector';
import { createLogExporter } from '../otlp/exporters';
import { processorMeterProvider } from '../otlp/processor-metrics';
import { ACCESS_LINE, TRACE_FLAGS, type LogInfo } from './levels';
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
function contextOf(info: LogInfo): Context {
  const traceId = info.trace_id;
  const spanId = info.span_id;
  if (typeof traceId !== 'string' || typeof spanId !== 'string') return ROOT_CONTEXT;
  const flags = info[TRACE_FLAGS];
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: typeof flags === 'number' ? flags : TraceFlags.SAMPLED, isRemote: false });
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
function accessAttributes(info: LogInfo): LogAttributes {
  const a: LogAttributes = { type: 'access', 'http.request.method': info.method as string };
  const route = info.route;
  if (typeof route === 'string' && route.startsWith('/')) a['http.route'] = route;
  const url = String(info.path);
  const q = url.indexOf('?');
  a['url.path'] = q === -1 ? url : url.slice(0, q);
  if (q !== -1) a['url.query'] = url.slice(q + 1);
  a['http.response.status_code'] = info.status as number;
  a.duration_ms = info.duration_ms as number;
  if (info.response_bytes !== undefined) a['http.response.body.size'] = info.response_bytes as number;
  if (info.client_address !== undefined) a['client.address'] = info.client_address as string;
  if (info.user_agent !== undefined) a['user_agent.original'] = info.user_agent as string;
  if (info.aborted !== undefined) a.aborted = info.aborted as boolean;
  if (info.error !== undefined) addException(a, info.error);
  return a;
}

/** Attributes of any other line: the caller's fields (already redacted and JSON-safe), an error as `exception.*`. */
function fieldAttributes(info: LogInfo): LogAttributes {
  const a: LogAttributes = {};
  for (const key of Object.keys(info)) {
    if (RESERVED.has(key)) continue;
    if (key === 'error') addException(a, info.error);
    else a[key] = info[key] as LogAttributes[string];
  }
  return a;
}

/** The OpenTelemetry log record of one entry. */
export function toLogRecord(info: LogInfo): LogRecord {
  const ms = typeof info.timestamp === 'string' ? Date.parse(info.timestamp) : NaN;
  return {
    timestamp: new Date(Number.isFinite(ms) ? ms : Date.now()),
    severityNumber: SEVERITY[info.level] ?? 0,
    severityText: info.level,
    body: info.message,
    attributes: info[ACCESS_LINE] === true ? accessAttributes(info) : fieldAttributes(info),
    context: contextOf(info),
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
        this.#logger.emit(toLogRecord(info as LogInfo));
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
