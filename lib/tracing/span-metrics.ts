import { createNoopMeter, type Attributes, type Counter as OtelCounter, type Meter, type MeterProvider } from '@opentelemetry/api';
import type { MetricsCollector } from '../metrics/collector';

/** Name of the batch span processor's self-observability counter (OpenTelemetry semantic conventions). */
const PROCESSED = 'otel.sdk.processor.span.processed';

/**
 * A MeterProvider handed to the BatchSpanProcessor as its documented `selfObsMeterProvider`: it maps
 * the processor's `otel.sdk.processor.span.processed` counter onto the instance's Prometheus
 * counters (`observability_spans_exported_total`, `observability_spans_dropped_total{reason}`);
 * every other instrument is a no-op.
 */
export function spanProcessorMeterProvider(metrics: MetricsCollector): MeterProvider {
  const exported = metrics.counter('observability_spans_exported_total', 'Spans the OTLP exporter delivered to the collector.');
  const dropped = metrics.counter(
    'observability_spans_dropped_total',
    'Spans lost before reaching the collector: reason="queue_full" (export queue at tracing.maxQueueSize) or "export_failed".',
    ['reason'],
  );
  dropped.inc({ reason: 'queue_full' }, 0);
  dropped.inc({ reason: 'export_failed' }, 0);
  const counter: OtelCounter = {
    add(value: number, attributes?: Attributes): void {
      const errorType = attributes?.['error.type'];
      if (errorType === undefined) exported.inc(value);
      else dropped.inc({ reason: errorType === 'queue_full' ? 'queue_full' : 'export_failed' }, value);
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
