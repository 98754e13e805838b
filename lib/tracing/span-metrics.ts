import { TraceFlags, type Context, type MeterProvider } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Counter } from 'prom-client';
import type { MetricsCollector } from '../metrics/collector';
import { processorMeterProvider } from '../otlp/processor-metrics';

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

/**
 * What a span batch processor reports when spans finish, mapped onto the instance's Prometheus counters
 * (`observability_spans_exported_total`, `observability_spans_dropped_total{reason}`) and `tally`:
 * `errorType` undefined when exported, `queue_full` when dropped at the door, anything else a failed export.
 */
export function spanProcessedHook(metrics: MetricsCollector, tally?: SpanTally): (count: number, errorType: string | undefined) => void {
  const exported = metrics.counter('observability_spans_exported_total', 'Spans the OTLP exporter delivered to the collector.');
  const dropped = metrics.counter(
    'observability_spans_dropped_total',
    'Spans lost before reaching the collector: reason="queue_full" (export queue at tracing.maxQueueSize), "export_failed", or "shutdown" (still queued when the shutdown timeout ended).',
    ['reason'],
  );
  dropped.inc({ reason: 'queue_full' }, 0);
  dropped.inc({ reason: 'export_failed' }, 0);
  if (tally) tally.droppedCounter = dropped;
  return (count, errorType) => {
    if (errorType === undefined) {
      exported.inc(count);
      if (tally) tally.exported += count;
    } else {
      dropped.inc({ reason: errorType === 'queue_full' ? 'queue_full' : 'export_failed' }, count);
      if (tally) tally.dropped += count;
    }
  };
}

/**
 * A MeterProvider handed to the SDK's BatchSpanProcessor (the OTLP/JSON export) as its documented
 * `selfObsMeterProvider`: its `otel.sdk.processor.span.processed` counter goes to {@link spanProcessedHook}.
 */
export function spanProcessorMeterProvider(metrics: MetricsCollector, tally?: SpanTally): MeterProvider {
  const processed = spanProcessedHook(metrics, tally);
  return processorMeterProvider('span', { processed });
}
