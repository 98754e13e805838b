import {
  context,
  defaultTextMapSetter,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type AttributeValue,
  type Span,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { CompositePropagator, getNumberFromEnv, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type BufferConfig,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { MetricsCollector } from '../metrics/collector';
import type { Redactor } from '../redaction/redactor';
import { RedactingSpanProcessor } from '../redaction/spans';
import { createEncodedSpanExporter, createJsonSpanExporter } from '../otlp/exporters';
import { EncodedBatchSpanProcessor, type EncodedBatchSettings } from '../otlp/encoded-span-processor';
import { instanceResource } from '../otlp/resource';
import type { ResolvedTracingOptions, SamplerName } from './options';
import { CountingSpanProcessor, spanProcessedHook, spanProcessorMeterProvider, SpanTally } from './span-metrics';
import { DiscardFilter } from './discard';
import { SPAN_KIND_BY_NAME, SpanStore, type SpanKindName, type SpanRecord, type TraceQuery, type TraceSummary } from './span-store';
import { withDeadline } from '../util/deadline';
import { acquireContextManager, registerGlobalProvider } from './globals';
import { PACKAGE_VERSION } from '../version';

/** Span kinds accepted by {@link TracingSystem.withSpan}. */
export type { SpanKindName };

/** Options of {@link TracingSystem.withSpan}. */
export interface WithSpanOptions {
  readonly attributes?: Attributes;
  /** Default `internal`. */
  readonly kind?: SpanKind | SpanKindName;
}

/** Headers {@link TracingSystem.inject} may write. */
export interface PropagationHeaders {
  traceparent?: string;
  tracestate?: string;
  baggage?: string;
}

/** What the tracing subsystem needs from its instance. */
export interface TracingSettings {
  readonly options: ResolvedTracingOptions;
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly metrics: MetricsCollector;
  /** The instance's redaction policy, applied to every span before export and the ring. */
  readonly redactor: Redactor;
  /** End now the spans of requests that ended this turn (run before the ring is read or spans are flushed). */
  readonly finishEnded: () => void;
}

/** Version of this package, reported as the instrumentation scope version. */
const SCOPE = 'express-observability';

function samplerOf(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The batch bounds as the SDK's `BatchSpanProcessor` resolves them: the option, else `OTEL_BSP_*`, else its defaults. */
function batchSettings(o: ResolvedTracingOptions): EncodedBatchSettings {
  return {
    maxQueueSize: o.maxQueueSize ?? getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE') ?? 2048,
    maxExportBatchSize: o.maxExportBatchSize ?? getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 512,
    scheduledDelayMillis: o.scheduledDelayMillis ?? getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY') ?? 5000,
    exportTimeoutMillis: o.exportTimeoutMillis ?? getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT') ?? 30000,
  };
}

/** True when the application registered a global tracer provider before us. */
function globalProviderRegistered(): boolean {
  const global: TracerProvider = trace.getTracerProvider();
  if (global instanceof ProxyTracerProvider) return global.getDelegateTracer(SCOPE) !== undefined;
  return true;
}

/**
 * Record `err` on `span`: exception event (type, message, stacktrace), status ERROR, `error.type`.
 * With `redactor` (spans of a provider the instance does not own, where no processor of ours
 * runs) the message and stack are redacted here.
 */
export function recordError(span: Span, err: unknown, redactor?: Redactor): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const message = redactor ? redactor.text(String(e.message)) : e.message;
  if (redactor) {
    const code = (e as { code?: unknown }).code;
    span.recordException({
      name: e.name,
      message,
      ...(typeof e.stack === 'string' ? { stack: redactor.text(e.stack) } : {}),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    });
  } else span.recordException(e);
  span.setAttribute('error.type', e.name || e.constructor.name || '_OTHER');
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * The instance's tracer (`obs.tracing`): its own OpenTelemetry provider (resource with
 * `service.name`/`service.version`, parent-based sampler, batch processor → OTLP/HTTP when an
 * endpoint is configured, and an in-memory ring of recent spans), W3C trace-context + baggage
 * propagation, and the application API (`withSpan`, `addEvent`, `setAttribute`, `inject`).
 */
export class TracingSystem {
  /** False when tracing is disabled (`tracing.enabled: false` or `OTEL_SDK_DISABLED=true`). */
  readonly enabled: boolean;
  /** The tracer spans are started with. */
  readonly tracer: Tracer;
  /** W3C trace-context + baggage propagator. */
  readonly propagator: TextMapPropagator;
  /** True when an application-registered global tracer provider is used instead of the instance's own. */
  readonly usesGlobalProvider: boolean;
  /** Where spans are exported (OTLP/HTTP), if anywhere. */
  readonly endpoint: string | undefined;
  readonly #provider: BasicTracerProvider | undefined;
  readonly #store: SpanStore;
  /** Set when spans go to an application-owned provider: helpers then redact what they are given. */
  readonly #atSource: Redactor | undefined;
  readonly #shutdownTimeoutMillis: number;
  #stopped: Promise<void> | undefined;
  readonly #tally = new SpanTally();
  /** Spans ended by {@link TracingSystem.discard}: the instance's processors skip them. */
  readonly #discarded = new WeakSet<object>();
  #lost = 0;
  #abandoned = false;
  readonly #finishEnded: () => void;
  /** Unregister the OpenTelemetry globals this instance holds (see globals.ts); run at shutdown. */
  readonly #releaseGlobals: (() => void)[] = [];

  /** Build the tracer from resolved options; registers the global context manager when none is. */
  constructor(settings: TracingSettings) {
    const o = settings.options;
    this.enabled = o.enabled;
    this.#finishEnded = settings.finishEnded;
    this.#shutdownTimeoutMillis = o.shutdownTimeoutMillis;
    this.propagator = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
    this.#store = new SpanStore(o.enabled ? o.ringBufferSize : 0);
    this.usesGlobalProvider = o.enabled && globalProviderRegistered();
    this.endpoint = o.enabled && !this.usesGlobalProvider ? o.endpoint : undefined;
    this.#atSource = this.usesGlobalProvider ? settings.redactor : undefined;
    if (!o.enabled) {
      this.#provider = undefined;
      this.tracer = trace.getTracer(SCOPE, PACKAGE_VERSION);
      return;
    }
    this.#releaseGlobals.push(acquireContextManager());
    if (this.usesGlobalProvider) {
      this.#provider = undefined;
      this.tracer = trace.getTracer(SCOPE, PACKAGE_VERSION);
      return;
    }
    // Redaction first: its onEnding runs before any processor's onEnd (the ring, the exporter).
    const kept: SpanProcessor[] = [this.#store];
    if (o.endpoint !== undefined) {
      const exporterSettings = { url: o.endpoint, headers: o.headers, timeoutMillis: o.exportTimeoutMillis };
      let batch: SpanProcessor;
      if (o.protocol === 'http/protobuf') {
        // Spans wait for export encoded, outside the heap (lib/otlp/encoded-span-processor.ts); same settings and defaults as the SDK's processor.
        batch = new EncodedBatchSpanProcessor(createEncodedSpanExporter(exporterSettings), batchSettings(o), spanProcessedHook(settings.metrics, this.#tally));
      } else {
        // Settings left undefined are the SDK's: it reads OTEL_BSP_* itself.
        const buffer: BufferConfig & { selfObsMeterProvider: ReturnType<typeof spanProcessorMeterProvider> } = {
          maxQueueSize: o.maxQueueSize,
          maxExportBatchSize: o.maxExportBatchSize,
          scheduledDelayMillis: o.scheduledDelayMillis,
          exportTimeoutMillis: o.exportTimeoutMillis,
          selfObsMeterProvider: spanProcessorMeterProvider(settings.metrics, this.#tally),
        };
        batch = new BatchSpanProcessor(createJsonSpanExporter(exporterSettings), buffer);
      }
      kept.push(new CountingSpanProcessor(batch, this.#tally));
    }
    const processors: SpanProcessor[] = [new RedactingSpanProcessor(settings.redactor), new DiscardFilter(kept, this.#discarded)];
    const resource = instanceResource(settings.serviceName, settings.serviceVersion);
    // No sampler in the options: the SDK builds it from OTEL_TRACES_SAMPLER[_ARG] (default parentbased_always_on).
    this.#provider = new BasicTracerProvider(
      o.sampler === undefined
        ? { resource, spanProcessors: processors }
        : { resource, sampler: samplerOf(o.sampler, o.sampleRatio ?? 1), spanProcessors: processors },
    );
    this.tracer = this.#provider.getTracer(SCOPE, PACKAGE_VERSION);
    if (o.registerGlobal) this.#releaseGlobals.push(registerGlobalProvider(this.#provider, this.propagator));
  }

  /**
   * Run `fn` inside a new child span of the active one. Records an exception and status ERROR when `fn`
   * throws or its promise rejects (and rethrows); the span always ends, after the promise settles.
   */
  withSpan<T>(name: string, fn: (span: Span) => T, options: WithSpanOptions = {}): T {
    if (!this.enabled) return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
    const kind = typeof options.kind === 'string' ? (SPAN_KIND_BY_NAME[options.kind] ?? SpanKind.INTERNAL) : (options.kind ?? SpanKind.INTERNAL);
    const parent = context.active();
    const src = this.#atSource;
    const attributes = src ? src.attributes(options.attributes) : options.attributes;
    const span = this.tracer.startSpan(src ? src.text(String(name)) : String(name), { kind, attributes }, parent);
    return context.with(trace.setSpan(parent, span), () => {
      let result: T;
      try {
        result = fn(span);
      } catch (err) {
        recordError(span, err, src);
        span.end();
        throw err;
      }
      if (!isThenable(result)) {
        span.end();
        return result;
      }
      // A promise keeps its class (`then` follows its species); any other thenable is adopted as `await`
      // adopts it: one whose then() returns nothing, or throws, still settles the span.
      return (result instanceof Promise ? result : Promise.resolve(result)).then(
        (value) => {
          span.end();
          return value;
        },
        (err: unknown) => {
          recordError(span, err, src);
          span.end();
          throw err;
        },
      ) as T;
    });
  }

  /** Add an event to the active span (no-op outside a span). */
  addEvent(name: string, attributes?: Attributes): void {
    const src = this.#atSource;
    trace.getActiveSpan()?.addEvent(src ? src.text(name) : name, src ? src.attributes(attributes) : attributes);
  }

  /** Set an attribute on the active span (no-op outside a span). */
  setAttribute(key: string, value: AttributeValue): void {
    const src = this.#atSource;
    trace.getActiveSpan()?.setAttribute(key, src ? src.attribute(key, value) : value);
  }

  /** Write `traceparent` (and `tracestate`, `baggage`) of the active context into `headers`; returns `headers`. */
  inject<H extends Record<string, unknown> = Record<string, string>>(headers?: H): H & PropagationHeaders {
    const carrier = (headers ?? {}) as H & PropagationHeaders;
    this.propagator.inject(context.active(), carrier, defaultTextMapSetter);
    return carrier;
  }

  /**
   * End `span` without exporting it or keeping it in the ring (the instance's own provider). Under an
   * application-owned provider the span just ends: that provider's processors treat it like any other.
   */
  discard(span: Span): void {
    this.#discarded.add(span);
    span.end();
  }

  /** Recent traces from the in-memory ring (newest first), filtered. Empty when an app-owned global provider is used. */
  recentTraces(query: TraceQuery = {}): TraceSummary[] {
    this.#finishEnded();
    return this.#store.recentTraces(query);
  }

  /** Every span of `traceId` still in the ring, oldest first, as plain data; `undefined` if none. */
  getTrace(traceId: string): SpanRecord[] | undefined {
    this.#finishEnded();
    return this.#store.getTrace(String(traceId).toLowerCase());
  }

  /** Export what is queued now. */
  async forceFlush(): Promise<void> {
    this.#finishEnded();
    await this.#provider?.forceFlush();
  }

  /**
   * Spans the exporter could not deliver during {@link TracingSystem.shutdown}: it failed to export them,
   * or they were still queued when `tracing.shutdownTimeoutMillis` ended (`reason="shutdown"`).
   */
  get lostAtShutdown(): number {
    return this.#lost;
  }

  /**
   * The process exits now (a forced shutdown): the spans still waiting for export are counted as
   * dropped (`reason="shutdown"`) and returned; a shutdown still running counts nothing more.
   */
  abandon(): number {
    if (this.#abandoned) return 0;
    this.#abandoned = true;
    const left = this.#tally.pending;
    if (left > 0) this.#tally.droppedCounter?.inc({ reason: 'shutdown' }, left);
    return left;
  }

  /** Flush queued spans (bounded by `tracing.shutdownTimeoutMillis`) and stop the provider; idempotent. */
  shutdown(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    const provider = this.#provider;
    if (!provider) return this.#release();
    const t = this.#tally;
    const droppedBefore = t.dropped;
    try {
      await withDeadline(provider.shutdown(), this.#shutdownTimeoutMillis);
    } finally {
      this.#release();
      if (!this.#abandoned) {
        const left = t.pending;
        if (left > 0) t.droppedCounter?.inc({ reason: 'shutdown' }, left);
        this.#lost = t.dropped - droppedBefore + left;
      }
    }
  }

  /** Unregister the globals this instance registered (the last instance out releases the context manager). */
  #release(): void {
    for (const release of this.#releaseGlobals.splice(0)) release();
  }
}
