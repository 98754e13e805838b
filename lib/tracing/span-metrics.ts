import type { MeterProvider } from '@opentelemetry/api';
import type { MetricsCollector } from '../metrics/collector';
import { processorMeterProvider } from '../otlp/processor-metrics';

/**
 * A MeterProvider handed to the BatchSpanProcessor as its documented `selfObsMeterProvider`: it maps
 * the processor's `otel.sdk.processor.span.processed` counter onto the instance's Prometheus
 * counters (`observability_spans_exported_total`, `observability_spans_dropped_total{reason}`).
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
  return processorMeterProvider('span', {
    processed(count, errorType) {
      if (errorType === undefined) exported.inc(count);
      else dropped.inc({ reason: errorType === 'queue_full' ? 'queue_full' : 'export_failed' }, count);
    },
  });
}
