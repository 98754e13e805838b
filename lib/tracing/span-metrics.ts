import { createNoopMeter, TraceFlags, type Attributes, type Context, type Counter as OtelCounter, type Meter, type MeterProvider } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Counter } from 'prom-client';
import type { MetricsCollector } from '../metrics/collector';

/** Running counts of the export pipeline, for the shutdown report: spans handed to it, exported, dropped. */
export class SpanTally {
  entered = 0;
  exported = 0;
  dropped = 0;
  /** The `observability_spans_dropped_total` counter (its `shutdown` reason is counted by the tracer). */
  droppedCounter: Counter<string> | undefined;
  /** Spans handed to the export pipeline and neither exported nor counted as dropped yet. */
  get pending(): number {
    return Math.max(0, this.entered - this.exported - this.dropped);
  }
}

/** Counts the sampled spans entering `inner` (the batch processor) into `tally`. */
export class CountingSpanProcessor implements SpanProcessor {
  /** Wrap `inner`. */
  constructor(
    readonly inner: SpanProcessor,
    readonly tally: SpanTally,
  ) {}
  /** Delegates. */
  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }
  /** Counts a sampled span, then delegates. */
  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) this.tally.entered++;
    this.inner.onEnd(span);
  }
  /** Delegates. */
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  /** Delegates. */
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** Name of the batch span processor's self-observability counter (OpenTelemetry semantic conventions). */
const PROCESSED = 'otel.sdk.processor.span.processed';

/**
 * A MeterProvider handed to the BatchSpanProcessor as its documented `selfObsMeterProvider`: it maps
 * the processor's `otel.sdk.processor.span.processed` counter onto the instance's Prometheus
 * counters (`observability_spans_exported_total`, `observability_spans_dropped_total{reason}`);
 * every other instrument is a no-op.
 */
export function spanProcessorMeterProvider(metrics: MetricsCollector, tally?: SpanTally): MeterProvider {
  const exported = metrics.counter('observability_spans_exported_total', 'Spans the OTLP exporter delivered to the collector.');
  const dropped = metrics.counter(
    'observability_spans_dropped_total',
    'Spans lost before reaching the collector: reason="queue_full" (export queue at tracing.maxQueueSize), "export_failed", or "shutdown" (still queued when the shutdown timeout ended).',
    ['reason'],
  );
  dropped.inc({ reason: 'queue_full' }, 0);
  dropped.inc({ reason: 'export_failed' }, 0);
  if (tally) tally.droppedCounter = dropped;
  const counter: OtelCounter = {
    add(value: number, attributes?: Attributes): void {
      const errorType = attributes?.['error.type'];
      if (errorType === undefined) {
        exported.inc(value);
        if (tally) tally.exported += value;
      } else {
        dropped.inc({ reason: errorType === 'queue_full' ? 'queue_full' : 'export_failed' }, value);
        if (tally) tally.dropped += value;
      }
    },
  };
  const noop = createNoopMeter();
  const meter: Meter = Object.create(noop, {
    createCounter: {
      value: (name: string, options?: Parameters<Meter['createCounter']>[1]): OtelCounter =>
        name === PROCESSED ? counter : noop.createCounter(name, options),
    },
  }) as Meter;
  return { getMeter: () => meter };
}
