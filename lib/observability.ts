import type { Router } from 'express';
import { collectDefaultMetrics } from 'prom-client';
import { BasicHealth } from './health/health';
import { createRouter } from './http/router';
import { MetricsCollector } from './metrics/collector';
import { Exposition } from './metrics/exposition';
import { HttpMetrics } from './metrics/http-metrics';
import { createRegistry, isOpenMetrics, type AnyRegistry } from './metrics/registry';
import { createMiddleware, type ErrorMiddleware, type Middleware, type RequestParticipant } from './middleware';
import { resolveOptions, type ObservabilityOptions, type ResolvedOptions } from './options';

/** One observability stack: everything hangs off this object; nothing is global. */
export interface Observability {
  /** The resolved, frozen options. */
  readonly options: ResolvedOptions;
  /** The instance's own prom-client registry. */
  readonly registry: AnyRegistry;
  /** Typed metric factory on {@link Observability.registry}. */
  readonly metrics: MetricsCollector;
  /** Per-request middleware: `app.use(obs.middleware)` before your routes. */
  readonly middleware: Middleware;
  /** Error-recording middleware: `app.use(obs.errorHandler)` after your routes; passes the error on. */
  readonly errorHandler: ErrorMiddleware;
  /** Express router with `/metrics` and the health endpoints. */
  readonly router: Router;
  /** Stop every timer, flush what is buffered; idempotent (every call returns the same promise). */
  shutdown(): Promise<void>;
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
  const reportError = (component: string, err: unknown): void => {
    internalErrors.inc({ component });
    process.emitWarning(`express-observability: ${component} failed: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'EXPRESS_OBSERVABILITY',
    });
  };
  const http = new HttpMetrics(metrics, {
    buckets: resolved.metrics.buckets,
    bodySizes: resolved.metrics.bodySizes,
    maxLabelSets: resolved.metrics.maxLabelSets,
    exemplars,
  });
  const participants: RequestParticipant[] = [];
  const stateKey = Symbol('express-observability.request');
  const routerKey = Symbol('express-observability.router');
  const { middleware, errorHandler } = createMiddleware({
    stateKey,
    routerKey,
    http,
    participants,
    settings: {
      excludePaths: resolved.metrics.excludePaths,
      normalizePath: resolved.metrics.normalizePath,
      reportError,
    },
  });
  const health = new BasicHealth(resolved.serviceName, resolved.serviceVersion);
  const router = createRouter({ exposition: new Exposition(registry), health, routerKey, reportError });

  let stopping: Promise<void> | undefined;
  return {
    options: resolved,
    registry,
    metrics,
    middleware,
    errorHandler,
    router,
    shutdown(): Promise<void> {
      if (!stopping) {
        health.beginShutdown();
        stopping = Promise.resolve();
      }
      return stopping;
    },
  };
}
