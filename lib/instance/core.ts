import { collectDefaultMetrics } from '../metrics/prom-client';
import { MetricsCollector } from '../metrics/collector';
import { createRegistry, type AnyRegistry } from '../metrics/registry';
import { resolveOptions, type ObservabilityOptions, type ResolvedOptions } from '../options';
import { Redactor } from '../redaction/redactor';
import { warnFailure } from '../util/warn';

/** What every part of an instance is built on. */
export interface Core {
  readonly options: ResolvedOptions;
  readonly registry: AnyRegistry;
  readonly metrics: MetricsCollector;
  readonly redactor: Redactor;
  /** Count (`observability_internal_errors_total{component}`) and report a failure that must not break a request. */
  readonly reportError: (component: string, err: unknown) => void;
}

/** Validate the options, then make the registry (default labels, process metrics), the collector, the redactor and the error reporter. */
export function createCore(options: ObservabilityOptions): Core {
  const resolved = resolveOptions(options);
  const registry = resolved.registry ?? createRegistry();
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
  return { options: resolved, registry, metrics, redactor, reportError };
}
