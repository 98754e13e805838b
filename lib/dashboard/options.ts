import { rangeError, readBool, readNumber, readOptionalString, readSection, typeError } from '../util/validate';

/** Options of the built-in dashboard (`dashboard` option). */
export interface DashboardOptions {
  /**
   * Collect for and serve `GET /dashboard` and its JSON API on the router. Default: `true` when the router
   * serves its views (`views`: development, or with `auth`), else `false`.
   */
  readonly enabled?: boolean;
  /**
   * Link for each trace id to an external trace UI (Jaeger, Tempo, ...) that receives your OTLP export;
   * `{traceId}` is replaced by the id. Default: none (only the built-in viewer).
   */
  readonly traceUrlTemplate?: string;
  /** Log lines kept in memory for the trace → logs join. Default `2000`. */
  readonly logBufferSize?: number;
  /** Interval of the history sampler (route rates, system sparklines), ms. Default `5000`. */
  readonly sampleIntervalMs?: number;
  /** Points kept per sparkline. Default `120` (10 minutes at 5 s). */
  readonly historyPoints?: number;
  /** Window of the rate, error ratio and latency quantiles of the route table, ms. Default `60000`. */
  readonly rateWindowMs?: number;
  /** How often the page polls `dashboard/api/summary`, ms. Default `2000`. */
  readonly refreshMs?: number;
  /** Exemplar trace ids kept per route and bucket. Default `5`. */
  readonly exemplarsPerBucket?: number;
  /**
   * Width of one point of the request charts (rate, error ratio, p50/p95/p99), ms; at least
   * `sampleIntervalMs`. Default `10000`, or `sampleIntervalMs` when that is larger.
   */
  readonly chartResolutionMs?: number;
  /** Time span the request charts cover (points kept: `chartWindowMs / chartResolutionMs`), ms. Default `900000` (15 minutes). */
  readonly chartWindowMs?: number;
}

/** Dashboard options with every default filled in. */
export interface ResolvedDashboardOptions {
  readonly enabled: boolean;
  readonly traceUrlTemplate: string | undefined;
  readonly logBufferSize: number;
  readonly sampleIntervalMs: number;
  readonly historyPoints: number;
  readonly rateWindowMs: number;
  readonly refreshMs: number;
  readonly exemplarsPerBucket: number;
  readonly chartResolutionMs: number;
  readonly chartWindowMs: number;
}

const KEYS = [
  'enabled',
  'traceUrlTemplate',
  'logBufferSize',
  'sampleIntervalMs',
  'historyPoints',
  'rateWindowMs',
  'refreshMs',
  'exemplarsPerBucket',
  'chartResolutionMs',
  'chartWindowMs',
] as const;

/**
 * Validate the `dashboard` option and resolve its defaults. `served`: whether the router serves its
 * views; the dashboard is on by default only then (nothing could read what it collects otherwise).
 */
export function resolveDashboardOptions(raw: unknown, served: boolean): ResolvedDashboardOptions {
  const d = readSection(raw, 'dashboard', KEYS);
  const traceUrlTemplate = readOptionalString(d, 'traceUrlTemplate', 'dashboard');
  if (traceUrlTemplate !== undefined) {
    if (!traceUrlTemplate.includes('{traceId}')) typeError('dashboard.traceUrlTemplate', 'a URL containing "{traceId}"', traceUrlTemplate);
    if (!/^https?:\/\//i.test(traceUrlTemplate)) typeError('dashboard.traceUrlTemplate', 'an http(s) URL', traceUrlTemplate);
  }
  const sampleIntervalMs = readNumber(d, 'sampleIntervalMs', 'dashboard', 5000, { min: 100, integer: true });
  const chartResolutionMs = readNumber(d, 'chartResolutionMs', 'dashboard', Math.max(10_000, sampleIntervalMs), { min: 1000, max: 3_600_000, integer: true });
  if (chartResolutionMs < sampleIntervalMs) rangeError('dashboard.chartResolutionMs', `at least dashboard.sampleIntervalMs (${sampleIntervalMs})`, chartResolutionMs);
  const chartWindowMs = readNumber(d, 'chartWindowMs', 'dashboard', Math.max(900_000, 2 * chartResolutionMs), { min: 60_000, max: 86_400_000, integer: true });
  if (chartWindowMs / chartResolutionMs > 2000) rangeError('dashboard.chartWindowMs', `at most 2000 × dashboard.chartResolutionMs (${chartResolutionMs * 2000})`, chartWindowMs);
  if (chartWindowMs < 2 * chartResolutionMs) rangeError('dashboard.chartWindowMs', `at least 2 × dashboard.chartResolutionMs (${chartResolutionMs * 2})`, chartWindowMs);
  return Object.freeze({
    enabled: readBool(d, 'enabled', 'dashboard', served),
    traceUrlTemplate,
    logBufferSize: readNumber(d, 'logBufferSize', 'dashboard', 2000, { min: 0, max: 1_000_000, integer: true }),
    sampleIntervalMs,
    historyPoints: readNumber(d, 'historyPoints', 'dashboard', 120, { min: 2, max: 10_000, integer: true }),
    rateWindowMs: readNumber(d, 'rateWindowMs', 'dashboard', 60_000, { min: 1000, integer: true }),
    refreshMs: readNumber(d, 'refreshMs', 'dashboard', 2000, { min: 250, integer: true }),
    exemplarsPerBucket: readNumber(d, 'exemplarsPerBucket', 'dashboard', 5, { min: 0, max: 100, integer: true }),
    chartResolutionMs,
    chartWindowMs,
  });
}
