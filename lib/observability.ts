import type { RequestHandler } from 'express';
import type { RequestListener, Server, ServerOptions } from 'node:http';
import type { Dashboard } from './dashboard/dashboard';
import { installDashboard } from './dashboard/install';
import { alertSourceOf } from './dashboard/sources';
import { AlertEngine, type Alerts } from './alerts/engine';
import { SYSTEM_GAUGES } from './alerts/sources';
import { addBuiltinChecks } from './health/builtin';
import { HealthChecks } from './health/checks';
import type { CheckFunction, CheckOptions } from './health/health';
import { attachShutdown, type ShutdownHandle, type ShutdownOptions } from './health/shutdown';
import type { ShutdownReport } from './health/shutdown-report';
import { authFailureRecorder } from './http/auth-failures';
import type { ExceptionFilterLike } from './http/exception-filter';
import { createRouter } from './http/router';
import { createCore, type Core } from './instance/core';
import { createEntryPoints, type WrapOptions } from './instance/entry-points';
import { PARTICIPANT_ORDER, SHUTDOWN_ORDER, type ParticipantRole } from './instance/order';
import { ShutdownSequence, type ShutdownStep } from './instance/shutdown-sequence';
import type { MetricsCollector } from './metrics/collector';
import { Exposition } from './metrics/exposition';
import { ClusterWorkerMetrics } from './cluster/worker';
import { HttpMetrics } from './metrics/http-metrics';
import { isOpenMetrics, type AnyRegistry } from './metrics/registry';
import { createMiddleware, RequestStates, type ErrorMiddleware, type Middleware, type RequestParticipant } from './middleware';
import type { ObservabilityOptions, ResolvedOptions } from './options';
import { setupLogging } from './logging/setup';
import type { ObservabilityLogger, SharedLogger } from './logging/logger';
import { SystemSampler } from './system/sampler';
import { installTracing } from './tracing/install';
import type { TracingSystem } from './tracing/tracer';

export type { WrapOptions };

/** One observability stack: everything hangs off this object; nothing is global. */
export interface Observability {
  /** The resolved, frozen options. */
  readonly options: ResolvedOptions;
  /** The instance's own prom-client registry. */
  readonly registry: AnyRegistry;
  /** Typed metric factory on {@link Observability.registry}. */
  readonly metrics: MetricsCollector;
  /**
   * Per-request middleware: `app.use(obs.middleware)` before your routes. With the
   * `middlewareEndpoints` option it also answers the router's endpoints at the root.
   */
  readonly middleware: Middleware;
  /** Error-recording middleware: `app.use(obs.errorHandler)` after your routes; passes the error on. */
  readonly errorHandler: ErrorMiddleware;
  /**
   * NestJS: `filter` (any exception filter, e.g. `new BaseExceptionFilter(app.getHttpAdapter())`),
   * wrapped so that the exceptions it answers are recorded: Nest answers them itself, so they never
   * reach `errorHandler`. When the response is a 5xx, its span gets the exception event, status ERROR
   * and the message, and its access line the error; 4xx answers (`NotFoundException`, validation) are
   * not recorded. The filter still answers, and catches the same `@Catch(...)` types, as before.
   * `app.useGlobalFilters(obs.exceptionFilter(new BaseExceptionFilter(app.getHttpAdapter())))`;
   * see docs/nestjs.md. Throws a TypeError when `filter` has no `catch` method.
   */
  exceptionFilter<F extends ExceptionFilterLike>(filter: F): F;
  /**
   * The middleware as a wrapper of the server's request listener instead of an Express layer:
   * `http.createServer(obs.wrap(app))`. Same measurement, tracing and logging, with no router layer
   * in the app's stack (it measures no faster beyond noise on `obs.createServer`). With
   * `{ endpoints: true }` the observability endpoints (`/metrics`, `/health*`, `/dashboard*`, `/alerts*`)
   * are served at the root before the app sees the request, so `app.use(obs.router)` is not needed either;
   * leave it off (the default) when the router is mounted elsewhere or on an internal port.
   */
  wrap(listener: RequestListener, options?: WrapOptions): RequestListener;
  /**
   * `http.createServer(options, listener)` for an Express app, `obs.createServer(app)`, or for this
   * instance's wrapper of one, `obs.createServer(obs.wrap(app))`: each request and response is built
   * directly on the app's prototypes ({@link serverOptions}), so Express's per-request re-prototyping
   * changes nothing and V8 keeps one hidden class for every request, with room for its properties.
   * Opt-in: the package never changes a server it did not build (docs/performance.md, "Server classes").
   * Anything else (Connect, a plain
   * listener) gets Node's own classes. `options` are `http.createServer`'s; the server is not listening.
   */
  createServer(listener: RequestListener, options?: ServerOptions): Server;
  /**
   * The observability endpoints as one middleware: `/metrics`, `/health`, `/health/live`,
   * `/health/ready`, and when enabled `/dashboard` and `/alerts`. Mount it at the root or under a
   * prefix (`app.use('/observability', obs.router)`); other paths pass straight through.
   */
  readonly router: RequestHandler;
  /** The instance's tracer: `withSpan()`, `addEvent()`, `setAttribute()`, `inject()`, `recentTraces()`, `getTrace()`. */
  readonly tracing: TracingSystem;
  /** The shared winston logger: JSON lines with `trace_id`/`span_id` of the active span, secrets redacted. */
  readonly logger: ObservabilityLogger;
  /** Health checks: `obs.health.addCheck(name, fn, { timeout, critical, ttl | interval })`. */
  readonly health: HealthChecks;
  /** The background system sampler (`obs.system.last` is its last snapshot); undefined with `system.enabled: false`. */
  readonly system: SystemSampler | undefined;
  /** The built-in dashboard's data model and joins (`GET /dashboard`); undefined with `dashboard.enabled: false`. */
  readonly dashboard: Dashboard | undefined;
  /** Alert rules: `status()`, `evaluate()`, `toPrometheusRules()`, `add()`; served at `GET /alerts` and `/alerts/rules`. */
  readonly alerts: Alerts;
  /** Graceful shutdown of `server` on SIGTERM/SIGINT (readiness 503, grace, drain, flush, exit). */
  attachShutdown(server: import('node:http').Server, options?: ShutdownOptions): ShutdownHandle;
  /**
   * Stop every timer, flush what is buffered; idempotent (every call returns the same promise). Resolves
   * to what could not be delivered (also written to stderr), what waits in the spool, and failed steps.
   */
  shutdown(): Promise<ShutdownReport>;
}

export type { ShutdownStep };

/**
 * What every subsystem factory receives: the instance's options, registry,
 * collector and error reporter, and the hooks to join requests and shutdown.
 * Internal; not exported from the package.
 */
export interface InstanceContext extends Core {
  /** Join every request, at the place of `role` in {@link PARTICIPANT_ORDER}. */
  addParticipant(role: ParticipantRole, p: RequestParticipant): void;
  /** Each measured request's state (what participants get in `start`), by request. */
  readonly states: RequestStates;
  /** Run `step` during `shutdown()`. */
  onShutdown(step: ShutdownStep): void;
  /** Register a health check (e.g. a shipper's backlog, the span exporter); same as `obs.health.addCheck()`. */
  addHealthCheck(name: string, fn: CheckFunction, options?: CheckOptions): void;
  /**
   * Hand the participants now the requests that ended in this event-loop turn (otherwise done at its
   * end): readers of what participants record (the span ring, a span flush) call it first.
   */
  finishEnded(): void;
}

/** Create an observability stack. Throws a TypeError/RangeError naming the option when options are invalid. */
export function createObservability(options: ObservabilityOptions = {}): Observability {
  const core = createCore(options);
  const { options: resolved, registry, metrics, reportError } = core;
  const shutdown = new ShutdownSequence(reportError);
  const health = new HealthChecks({
    serviceId: resolved.serviceName,
    version: resolved.serviceVersion,
    options: resolved.health,
    reportError,
    redact: (text) => core.redactor.text(text),
  });
  const participants = new Map<ParticipantRole, RequestParticipant[]>();
  const states = new RequestStates();
  // Bound to the request middleware once it exists (below); nothing has ended before.
  let finishEnded = (): void => undefined;
  const ctx: InstanceContext = {
    ...core,
    states,
    addParticipant: (role, p) => participants.set(role, [...(participants.get(role) ?? []), p]),
    onShutdown: (step) => shutdown.add(step),
    addHealthCheck: (name, fn, opts) => health.addCheck(name, fn, opts),
    finishEnded: () => finishEnded(),
  };
  ctx.onShutdown({ name: 'readiness', order: SHUTDOWN_ORDER.readiness, run: () => health.beginShutdown() });
  ctx.onShutdown({ name: 'health-checks', order: SHUTDOWN_ORDER.timers, run: () => health.stop() });

  const system = startSystemSampler(ctx, health);
  const http = new HttpMetrics(metrics, {
    buckets: resolved.metrics.buckets,
    bodySizes: resolved.metrics.bodySizes,
    maxLabelSets: resolved.metrics.maxLabelSets,
    exemplars: isOpenMetrics(registry),
    reportError,
  });
  const tracing = installTracing(ctx);
  const { logger, attach } = setupLogging(ctx);
  const dashboard = installDashboard(ctx, { health, tracing });
  dashboard?.attachLogger({ add: attach });
  // Alert rules read the registry: they come after every metric above, HTTP metrics included (unknown metrics throw here).
  const alerts = createAlerts(ctx, logger);
  dashboard?.use({ alerts: alertSourceOf(alerts) });

  const requests = createMiddleware({
    states,
    http,
    participants: PARTICIPANT_ORDER.flatMap((role) => participants.get(role) ?? []),
    settings: { excludePaths: resolved.metrics.excludePaths, normalizePath: resolved.metrics.normalizePath, reportError },
  });
  finishEnded = requests.finishEnded;
  ctx.onShutdown({ name: 'finished-requests', order: SHUTDOWN_ORDER.finishedRequests, run: () => requests.finishEnded(), abandon: () => requests.finishEnded() });
  ctx.onShutdown({ name: 'request-watch', order: SHUTDOWN_ORDER.requestWatch, run: () => requests.close() });
  const router = createInstanceRouter(ctx, { health, logger, dashboard, alerts, markServed: requests.markServed });
  const entry = createEntryPoints({ ...requests, router, states, reportError, middlewareEndpoints: resolved.middlewareEndpoints });
  return {
    options: resolved,
    registry,
    metrics,
    middleware: entry.middleware,
    errorHandler: requests.errorHandler,
    exceptionFilter: entry.exceptionFilter,
    router,
    wrap: entry.wrap,
    createServer: entry.createServer,
    tracing,
    get logger() {
      return logger.logger;
    },
    health,
    system,
    dashboard,
    alerts,
    attachShutdown: (server, shutdownOptions) =>
      attachShutdown(
        server,
        { beginShutdown: () => health.beginShutdown(), shutdown: () => shutdown.run(), abandon: () => shutdown.abandon(), reportError },
        shutdownOptions,
      ),
    shutdown: () => shutdown.run(),
  };
}

/** The system sampler, when enabled: first sample now, then one every `system.intervalMs` (unref'd timer); its built-in health checks. */
function startSystemSampler(ctx: InstanceContext, health: HealthChecks): SystemSampler | undefined {
  const { options, metrics, reportError } = ctx;
  if (!options.system.enabled) return undefined;
  const sampler = new SystemSampler({ metrics, options: options.system, reportError });
  ctx.onShutdown({ name: 'system-sampler', order: SHUTDOWN_ORDER.timers, run: () => sampler.stop() });
  if (options.health.builtins) addBuiltinChecks(health, () => sampler.last, options.health);
  sampler.start();
  return sampler;
}

/** The alert engine over the instance's registry, notifying through its logger. */
function createAlerts(ctx: InstanceContext, logger: SharedLogger): AlertEngine {
  const { options, registry, metrics, reportError } = ctx;
  const alerts = new AlertEngine({
    options: options.alerts,
    registry,
    metrics,
    serviceName: options.serviceName,
    defaultLabels: options.metrics.defaultLabels,
    buckets: options.metrics.buckets,
    lazyGauges: options.system.enabled ? SYSTEM_GAUGES : [],
    log: (level, message, fields) => logger.log(level, message, fields),
    reportError,
  });
  ctx.onShutdown({ name: 'alerts', order: SHUTDOWN_ORDER.timers, run: () => alerts.close() });
  return alerts;
}

/** What the router serves besides the metrics. */
interface RouterInputs {
  readonly health: HealthChecks;
  readonly logger: SharedLogger;
  readonly dashboard: Dashboard | undefined;
  readonly alerts: Alerts;
  readonly markServed: (req: object) => void;
}

/** The observability router: `/metrics` (for every worker in cluster mode), health, and the views when `views` allows them. */
function createInstanceRouter(ctx: InstanceContext, inputs: RouterInputs): RequestHandler {
  const { options, registry, metrics, reportError } = ctx;
  const local = new Exposition(registry);
  let exposition: Pick<Exposition, 'render'> = local;
  if (options.cluster.enabled) {
    const cluster = new ClusterWorkerMetrics({ registry, options: options.cluster, prefix: options.metrics.prefix, local, reportError });
    exposition = cluster;
    ctx.onShutdown({ name: 'cluster', order: SHUTDOWN_ORDER.timers, run: () => cluster.close() });
  }
  const { logger, dashboard } = inputs;
  const router = createRouter({
    exposition,
    health: inputs.health,
    markServed: inputs.markServed,
    reportError,
    ...(options.auth
      ? { auth: options.auth, authFailed: authFailureRecorder(metrics, (m, f) => logger.log('warn', m, f), options.auth.failureLogIntervalMs) }
      : {}),
    ...(dashboard ? { dashboard } : {}),
    alerts: inputs.alerts,
    views: options.views.serve,
  });
  if (options.views.warnOpen) {
    logger.log('warn', 'observability router: the dashboard, its trace and log APIs and /alerts are served without auth (views: true)', {
      paths: dashboard ? ['/dashboard', '/alerts'] : ['/alerts'],
    });
  }
  if (dashboard && !options.views.serve) {
    logger.log('warn', 'observability router: dashboard.enabled is true but the router does not serve its views (views: false, or NODE_ENV=production without auth); set auth, or views: true, to reach /dashboard', {
      option: 'dashboard.enabled',
    });
  }
  return router;
}
