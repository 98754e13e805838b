import { aggregatorRegistry } from '../metrics/prom-client';
import type { MetricsJson } from './protocol';

/** Metric shape the per-worker rule looks at. */
interface NamedMetric {
  readonly name: string;
  readonly type: string;
}

/**
 * Which metrics stay per worker (a worker label is added) and which are summed across workers:
 * process and Node.js runtime metrics (`process_*`, `nodejs_*`, after the default-metrics prefix),
 * summaries and gauges stay apart — a gauge such as heap size or a sampled system value means
 * nothing summed; counters, histograms and the `http_server_*` gauges (in-flight requests) add up.
 */
export function isPerWorker(metric: NamedMetric, prefix: string): boolean {
  const name = metric.name;
  if (name.startsWith(`${prefix}process_`) || name.startsWith(`${prefix}nodejs_`)) return true;
  if (metric.type === 'counter' || metric.type === 'histogram') return false;
  return !name.startsWith('http_server_');
}

/**
 * Label a worker's metrics before they leave the worker: per-worker metrics get
 * `<workerLabel>="<id>"` (and are then merely collected side by side); summed ones keep the
 * aggregator their definition declares (prom-client's default: sum).
 */
export function labelWorkerMetrics(metrics: MetricsJson, workerId: string, workerLabel: string, prefix: string): MetricsJson {
  return metrics.map((m) => {
    if (!isPerWorker({ name: m.name, type: String(m.type) }, prefix)) return { ...m, values: m.values.map(stripExemplar) };
    return {
      ...m,
      aggregator: 'sum',
      perWorker: true,
      values: m.values.map((v) => ({ ...stripExemplar(v), labels: { ...v.labels, [workerLabel]: workerId } })),
    };
  });
}

/**
 * The part of a worker's answer that the cluster's totals keep when the worker stops answering: its
 * summed counters and histograms (never decreasing), not its gauges or per-worker series.
 */
export function cumulativePart(metrics: MetricsJson): MetricsJson {
  return metrics.filter((m) => !m.perWorker && (String(m.type) === 'counter' || String(m.type) === 'histogram'));
}

/** Several answers' cumulative parts summed into one (so that the parts of exited workers take bounded room). */
export async function mergeCumulative(parts: readonly MetricsJson[]): Promise<MetricsJson> {
  return (await aggregatorRegistry().aggregate(parts as MetricsJson[]).getMetricsAsJSON()) as MetricsJson;
}

function stripExemplar<T extends object>(v: T): T {
  if (!('exemplar' in v)) return v;
  const { exemplar: _dropped, ...rest } = v as T & { exemplar?: unknown };
  return rest as T;
}

/** Outcome of one cluster scrape, exposed next to the aggregated metrics. */
export interface ScrapeOutcome {
  readonly responded: number;
  readonly timedOut: number;
  readonly failed: number;
}

/**
 * The aggregated exposition (Prometheus text 0.0.4) of the workers' metrics, with prom-client's
 * `AggregatorRegistry.aggregate`, followed by `observability_cluster_workers{state}`.
 */
export async function renderAggregate(perWorker: readonly MetricsJson[], outcome: ScrapeOutcome): Promise<string> {
  // Prometheus text 0.0.4 (the aggregate's default content type).
  const registry = aggregatorRegistry().aggregate(perWorker as MetricsJson[]);
  const body = await registry.metrics();
  const status = [
    '# HELP observability_cluster_workers Workers asked for their metrics by the last cluster scrape, by outcome.',
    '# TYPE observability_cluster_workers gauge',
    `observability_cluster_workers{state="responded"} ${outcome.responded}`,
    `observability_cluster_workers{state="timed_out"} ${outcome.timedOut}`,
    `observability_cluster_workers{state="failed"} ${outcome.failed}`,
    '',
  ].join('\n');
  return body.endsWith('\n') || body === '' ? body + status : `${body}\n${status}`;
}
