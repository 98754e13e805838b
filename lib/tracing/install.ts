import type { Counter } from 'prom-client';
import type { InstanceContext } from '../observability';
import { spanExporterCheck } from './health';
import { createTracingParticipant } from './middleware';
import { SHUTDOWN_ORDER } from '../instance/order';
import { TracingSystem } from './tracer';

/**
 * Build the instance's tracer from `ctx.options.tracing`, join every request with the SERVER-span
 * participant (the one whose `run()` enters the span's context) and flush spans at shutdown.
 */
export function installTracing(ctx: InstanceContext): TracingSystem {
  const options = ctx.options.tracing;
  const tracing = new TracingSystem({
    options,
    serviceName: ctx.options.serviceName,
    serviceVersion: ctx.options.serviceVersion,
    metrics: ctx.metrics,
    redactor: ctx.redactor,
    finishEnded: ctx.finishEnded,
  });
  if (tracing.enabled) {
    ctx.addParticipant('tracing', createTracingParticipant(tracing, options.legacyAttributes, options.incomingBaggage, tracing.usesGlobalProvider ? ctx.redactor : undefined));
  }
  ctx.onShutdown({
    name: 'tracing',
    order: SHUTDOWN_ORDER.tracing,
    run: async (ledger) => {
      // A failed flush still accounts for its spans (the failure itself is reported as the step's).
      try {
        await tracing.shutdown();
      } finally {
        ledger.lost('otlp', 'spans', tracing.lostAtShutdown);
      }
    },
    abandon: (ledger) => ledger.lost('otlp', 'spans', tracing.abandon()),
  });
  const exported = ctx.metrics.get('observability_spans_exported_total');
  const dropped = ctx.metrics.get('observability_spans_dropped_total');
  if (tracing.enabled && tracing.endpoint && exported && dropped) {
    ctx.addHealthCheck('tracing:exporter', spanExporterCheck(exported as Counter<string>, dropped as Counter<string>, tracing.endpoint));
  }
  return tracing;
}
