import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { readBool, readSection, typeError } from './util/validate';
import { collectDefaultMetrics } from 'prom-client';
import type { Dashboard } from './dashboard/dashboard';
import { installDashboard } from './dashboard/install';
import { alertSourceOf } from './dashboard/sources';
import { AlertEngine, type Alerts } from './alerts/engine';
import { SYSTEM_GAUGES } from './alerts/sources';
import { addBuiltinChecks } from './health/builtin';
import { HealthChecks } from './health/checks';
import type { CheckFunction, CheckOptions } from './health/health';
import { attachShutdown, type ShutdownHandle, type ShutdownOptions } from './health/shutdown';
import { authFailureRecorder } from './http/auth-failures';
import { ShutdownLedger, type ShutdownReport } from './health/shutdown-report';
import { createRouter, mayServe } from './http/router';
import { createExceptionFilter, type ExceptionFilterLike } from './http/exception-filter';
import { serverOptions } from './http/server';
import { MetricsCollector } from './metrics/collector';
import { Exposition } from './metrics/exposition';
import { ClusterWorkerMetrics } from './cluster/worker';
import { HttpMetrics } from './metrics/http-metrics';
import { createRegistry, isOpenMetrics, type AnyRegistry } from './metrics/registry';
import { createMiddleware, RequestStates, type ErrorMiddleware, type Middleware, type RequestParticipant } from './middleware';
import { resolveOptions, type ObservabilityOptions, type ResolvedOptions } from './options';
import { setupLogging } from './logging/setup';
import type { ObservabilityLogger } from './logging/logger';
import { SystemSampler } from './system/sampler';
import { installTracing } from './tracing/install';
import { Redactor } from './redaction/redactor';
import type { TracingSystem } from './tracing/tracer';
import { warnFailure } from './util/warn';

/** Options of {@link Observability.wrap}. */
export interface WrapOptions {
  /** Serve `/metrics`, `/health*`, `/dashboard*` and `/alerts*` at the root before the app. Default `false`. */
  readonly endpoints?: boolean;
}

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

/**
 * A step of `shutdown()`; steps run in ascending `order`, each bounded by its own option
 * (`tracing.shutdownTimeoutMillis`, `logging.shutdownTimeoutMs`); there is no cap above them.
 */
export interface ShutdownStep {
  readonly name: string;
  /** Lower runs first: 10 stop intake, 50 flush spans/logs, 90 stop timers. */
  readonly order: number;
  /** Run the step; `ledger` takes what it could not deliver. */
  run(ledger: ShutdownLedger): Promise<void> | void;
  /** The process exits now (a forced shutdown): account for what is undelivered, synchronously. */
  abandon?(ledger: ShutdownLedger): void;
}

/**
 * What every subsystem factory receives: the instance's options, registry,
 * collector and error reporter, and the hooks to join requests and shutdown.
 * Internal; not exported from the package.
 */
export interface InstanceContext {
  readonly options: ResolvedOptions;
  readonly registry: AnyRegistry;
  readonly metrics: MetricsCollector;
  /** The one redaction policy of the instance (logs, access lines, spans, health output, dashboard). */
  readonly redactor: Redactor;
  /** Count and report a failure that must not break a request. */
  readonly reportError: (component: string, err: unknown) => void;
  /** Join every request (order of registration is order of calls). */
  addParticipant(p: RequestParticipant): void;
  /** Each measured request's state (what participants get in `start`), by request. */
  readonly states: RequestStates;
  /** Run `step` during `shutdown()`. */
  onShutdown(step: ShutdownStep): void;
  /** Register a health check (e.g. a shipper's backlog, the span exporter); same as `obs.health.addCheck()`. */
  addHealthCheck(name: string, fn: CheckFunction, options?: CheckOptions): void;
}

/** Create an observability stack. Throws a TypeError/RangeError naming the option when options are invalid. */
export function createObservability(options: ObservabilityOptions = {}): Observability {
  const resolved = resolveOptions(options);
  const registry = resolved.registry ?? createRegistry();
  const exemplars = isOpenMetrics(registry);
  if (Object.keys(resolved.metrics.defaultLabels).length > 0) registry.setDefaultLabels({ ...resolved.metrics.defaultLabels });
  if (resolved.metrics.defaultMetrics) {
    // prom-client's typings split registries by content type; at runtime any registry works.
    collectDefaultMetrics({ register: registry as never, prefix: resolved.metrics.prefix });
  }
  const metrics = new MetricsCollector(registry);
  const internalErrors = metrics.counter(
    'observability_internal_errors_total',
    'Failures inside the observability stack or user callbacks, by component; requests are never affected.',
    ['component'],
  );
  const redactor = new Redactor(resolved.redaction);
  const reportError = (component: string, err: unknown): void => {
    internalErrors.inc({ component });
    warnFailure(component, err, (text) => redactor.text(text));
  };
  const participants: RequestParticipant[] = [];
  const steps: ShutdownStep[] = [];
  const health = new HealthChecks({
    serviceId: resolved.serviceName,
    version: resolved.serviceVersion,
    options: resolved.health,
    reportError,
    redact: (text) => redactor.text(text),
  });
  const states = new RequestStates();
  const ctx: InstanceContext = {
    states,
    options: resolved,
    registry,
    metrics,
    redactor,
    reportError,
    addParticipant: (p) => participants.push(p),
    onShutdown: (s) => steps.push(s),
    addHealthCheck: (name, fn, opts) => health.addCheck(name, fn, opts),
  };
  ctx.onShutdown({ name: 'readiness', order: 0, run: () => health.beginShutdown() });
  ctx.onShutdown({ name: 'health-checks', order: 90, run: () => health.stop() });

  // The system sampler takes its first sample now, then one every system.intervalMs (unref'd timer).
  let system: SystemSampler | undefined;
  if (resolved.system.enabled) {
    const sampler = new SystemSampler({ metrics, options: resolved.system, reportError });
    system = sampler;
    ctx.onShutdown({ name: 'system-sampler', order: 90, run: () => sampler.stop() });
    if (resolved.health.builtins) addBuiltinChecks(health, () => sampler.last, resolved.health);
    sampler.start();
  }

  const http = new HttpMetrics(metrics, {
    buckets: resolved.metrics.buckets,
    bodySizes: resolved.metrics.bodySizes,
    maxLabelSets: resolved.metrics.maxLabelSets,
    exemplars,
    reportError,
  });

  // Subsystems join here, in this order: tracing (its participant enters the span context),
  // then logging (the access log reads the span's ids), then the rest.
  const tracing = installTracing(ctx);
  const { logger, attach } = setupLogging(ctx);
  const dashboard = installDashboard(ctx, { health, tracing });
  dashboard?.attachLogger({ add: attach });

  // Alert rules read the registry, so they come after every metric above; unknown metrics throw here.
  const alerts = new AlertEngine({
    options: resolved.alerts,
    registry,
    metrics,
    serviceName: resolved.serviceName,
    buckets: resolved.metrics.buckets,
    lazyGauges: resolved.system.enabled ? SYSTEM_GAUGES : [],
    log: (level, message, fields) => logger[level](message, fields),
    reportError,
  });
  ctx.onShutdown({ name: 'alerts', order: 90, run: () => alerts.close() });
  dashboard?.use({ alerts: alertSourceOf(alerts) });

  /** What each of this instance's wrappers wraps, so createServer() finds the Express app behind one. */
  const wrappedApps = new WeakMap<RequestListener, RequestListener>();
  const appBehind = (listener: RequestListener): RequestListener => wrappedApps.get(listener) ?? listener;
  const { middleware, errorHandler, enter, close: closeMiddleware, markServed } = createMiddleware({
    states,
    http,
    participants,
    settings: {
      excludePaths: resolved.metrics.excludePaths,
      normalizePath: resolved.metrics.normalizePath,
      reportError,
    },
  });
  ctx.onShutdown({ name: 'request-watch', order: 95, run: () => closeMiddleware() });
  // Cluster mode: inside a cluster worker, /metrics answers for every worker (through the primary).
  const localExposition = new Exposition(registry);
  let exposition: Pick<Exposition, 'render'> = localExposition;
  if (resolved.cluster.enabled) {
    const clusterMetrics = new ClusterWorkerMetrics({
      registry,
      options: resolved.cluster,
      prefix: resolved.metrics.prefix,
      local: localExposition,
      reportError,
    });
    exposition = clusterMetrics;
    ctx.onShutdown({ name: 'cluster', order: 90, run: () => clusterMetrics.close() });
  }
  const router = createRouter({
    exposition,
    health,
    markServed,
    reportError,
    ...(resolved.auth
      ? { auth: resolved.auth, authFailed: authFailureRecorder(metrics, (m, f) => logger.warn(m, f), resolved.auth.failureLogIntervalMs) }
      : {}),
    ...(dashboard ? { dashboard } : {}),
    alerts,
    views: resolved.views.serve,
  });
  if (resolved.views.warnOpen) {
    logger.warn('observability router: the dashboard, its trace and log APIs and /alerts are served without auth (views: true)', {
      paths: dashboard ? ['/dashboard', '/alerts'] : ['/alerts'],
    });
  }

  let stopping: Promise<ShutdownReport> | undefined;
  const runSteps = async (): Promise<ShutdownReport> => {
    const ledger = new ShutdownLedger();
    const ordered = [...steps].sort((a, b) => a.order - b.order);
    for (const step of ordered) {
      try {
        await step.run(ledger);
      } catch (err) {
        ledger.failedStep(step.name);
        reportError(`shutdown:${step.name}`, err);
      }
    }
    return ledger.finish((text) => void process.stderr.write(text));
  };
  let abandoned: ShutdownReport | undefined;
  const abandon = (): ShutdownReport => {
    if (abandoned) return abandoned;
    const ledger = new ShutdownLedger();
    for (const step of [...steps].sort((a, b) => a.order - b.order)) {
      try {
        step.abandon?.(ledger);
      } catch (err) {
        ledger.failedStep(step.name);
        reportError(`shutdown:${step.name}`, err);
      }
    }
    abandoned = ledger.finish((text) => void process.stderr.write(text));
    return abandoned;
  };
  const shutdown = (): Promise<ShutdownReport> => {
    stopping ??= runSteps();
    return stopping;
  };
  // middlewareEndpoints: the router's paths are answered from inside the middleware (a closure only
  // for the requests the router may answer; every other request takes the plain path).
  const middlewareWithEndpoints: Middleware = (req, res, next) => {
    if (!mayServe(req)) {
      middleware(req, res, next);
      return;
    }
    enter(req, res, (n: NextFunction) => router(req as Request, res as Response, n), next, undefined);
  };
  return {
    options: resolved,
    registry,
    metrics,
    middleware: resolved.middlewareEndpoints ? middlewareWithEndpoints : middleware,
    errorHandler,
    exceptionFilter: createExceptionFilter((req, exception) => {
      const state = states.of(req);
      if (state !== undefined && state.handledError === undefined) state.handledError = exception;
    }),
    router,
    wrap(listener: RequestListener, wrapOptions: WrapOptions = {}): RequestListener {
      if (typeof listener !== 'function') typeError('wrap(listener)', 'a request listener function', listener);
      const endpoints = readBool(readSection(wrapOptions, 'wrap', ['endpoints']), 'endpoints', 'wrap', false);
      // No closure per request: the router only sees the paths it may answer.
      const viaRouter = (req: IncomingMessage, res: ServerResponse): void => {
        if (!mayServe(req)) {
          listener(req, res);
          return;
        }
        router(req as Request, res as Response, (err?: unknown) => {
          if (err !== undefined && err !== null) reportError('wrap', err);
          listener(req, res);
        });
      };
      const cont = endpoints ? viaRouter : listener;
      const wrapped: RequestListener = (req, res) => enter(req, res, cont, req, res);
      wrappedApps.set(wrapped, listener);
      return wrapped;
    },
    createServer(listener: RequestListener, httpOptions?: ServerOptions): Server {
      if (typeof listener !== 'function') typeError('createServer(listener)', 'an Express app or request listener', listener);
      return createHttpServer(serverOptions(appBehind(listener), httpOptions), listener);
    },
    tracing,
    logger,
    health,
    system,
    dashboard,
    alerts,
    attachShutdown: (server, shutdownOptions) =>
      attachShutdown(server, { beginShutdown: () => health.beginShutdown(), shutdown, abandon, reportError }, shutdownOptions),
    shutdown,
  };
}
