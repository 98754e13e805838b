import type { HealthProvider } from '../health/health';
import type { InstanceContext } from '../observability';
import { Dashboard } from './dashboard';
import { traceSourceOf, type TracerLike } from './sources';
import { SHUTDOWN_ORDER } from '../instance/order';

/** The parts of the instance the dashboard shows; each may be absent. */
export interface DashboardInputs {
  readonly health?: HealthProvider;
  readonly tracing?: TracerLike;
}

/**
 * Build the instance's dashboard (`undefined` with `dashboard.enabled: false`): joins every request
 * (exemplar index), starts the unref'd history sampler and stops it at shutdown.
 */
export function installDashboard(ctx: InstanceContext, inputs: DashboardInputs): Dashboard | undefined {
  const o = ctx.options;
  if (!o.dashboard.enabled) return undefined;
  const dashboard = new Dashboard({
    options: o.dashboard,
    serviceName: o.serviceName,
    serviceVersion: o.serviceVersion,
    registry: ctx.registry,
    metrics: ctx.metrics,
    metricsPrefix: o.metrics.prefix,
    buckets: o.metrics.buckets,
    reportError: ctx.reportError,
  });
  ctx.addParticipant('dashboard', dashboard.participant());
  dashboard.use({
    ...(inputs.health ? { health: inputs.health } : {}),
    ...(inputs.tracing ? { traces: traceSourceOf(inputs.tracing, Math.max(o.tracing.ringBufferSize, 1)) } : {}),
  });
  ctx.onShutdown({ name: 'dashboard', order: SHUTDOWN_ORDER.timers, run: () => dashboard.stop() });
  dashboard.start();
  return dashboard;
}
