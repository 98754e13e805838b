import type { Histogram } from 'prom-client';
import type { MetricsCollector } from '../metrics/collector';
import type { AnyRegistry } from '../metrics/registry';
import type { RequestParticipant } from '../middleware';
import { ExemplarIndex, type Exemplar } from './exemplars';
import { LogRing, type LogLine } from './log-ring';
import type { ResolvedDashboardOptions } from './options';
import { RequestHistory, type ChartSeries } from './request-history';
import { DURATION_METRIC, RouteStats, type RouteBuckets, type RouteRow } from './route-stats';
import { safeHealth, type AlertView, type DashboardSources, type SpanView, type TraceSummaryView } from './sources';
import { SystemHistory, type SeriesView } from './system-history';
import { listTraces, tracesForAlert, waterfall, type TraceQuery, type WaterfallSpan } from './traces';
import type { HealthReport } from '../health/health';

/** What a dashboard needs from its instance. */
export interface DashboardParts {
  readonly options: ResolvedDashboardOptions;
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly registry: AnyRegistry;
  readonly metrics: MetricsCollector;
  /** Prefix of prom-client's default metrics (`metrics.prefix`). */
  readonly metricsPrefix: string;
  /** Upper bounds of the duration histogram, seconds. */
  readonly buckets: readonly number[];
  readonly reportError: (component: string, err: unknown) => void;
}

/** `GET dashboard/api/summary`: everything the page shows, in one JSON document. */
export interface DashboardSummary {
  readonly service: { readonly name: string; readonly version: string };
  readonly nowMs: number;
  readonly refreshMs: number;
  /** The window of the route table's rates, error ratios and quantiles (`dashboard.rateWindowMs`). */
  readonly rateWindowMs: number;
  /** Which data sources are on; the page hides the panels of the others. */
  readonly sources: { readonly health: boolean; readonly traces: boolean; readonly logs: boolean; readonly alerts: boolean };
  readonly traceUrlTemplate: string | undefined;
  readonly health: HealthReport | undefined;
  readonly routes: readonly RouteRow[];
  readonly system: readonly SeriesView[];
  readonly alerts: { readonly active: readonly AlertView[]; readonly recent: readonly AlertView[] };
  readonly traces: readonly TraceSummaryView[];
  readonly errorLogs: readonly LogLine[];
}

/** One trace with its log lines: `GET dashboard/api/traces/:traceId`. */
export interface TraceDetail {
  readonly traceId: string;
  readonly spans: readonly WaterfallSpan[];
  readonly logs: readonly LogLine[];
  readonly externalUrl: string | undefined;
}

/** Bucket counts of a route with the exemplar traces of each bucket. */
export interface RouteDetail extends RouteBuckets {
  readonly exemplars: readonly (readonly (Exemplar & { readonly inBuffer: boolean })[])[];
}

const ERROR_LEVELS = ['error', 'crit', 'alert', 'emerg', 'fatal'];

/**
 * The dashboard's data model: route stats, system history, exemplar index, log ring and the
 * joins between them. Sources that are off (no tracer, no alerts) are simply absent.
 */
export class Dashboard {
  readonly options: ResolvedDashboardOptions;
  /** The bounded ring of recent log lines (trace → logs join); attach `logs.transport()` to a winston logger. */
  readonly logs: LogRing;
  readonly #parts: DashboardParts;
  readonly #routes: RouteStats;
  readonly #system: SystemHistory;
  readonly #charts: RequestHistory;
  readonly #exemplars: ExemplarIndex;
  #sources: DashboardSources = {};
  #logsAttached = false;
  #timer: NodeJS.Timeout | undefined;
  #sampling = false;

  /** Build the model; call {@link Dashboard.start} to begin sampling. */
  constructor(parts: DashboardParts) {
    this.#parts = parts;
    this.options = parts.options;
    this.logs = new LogRing(parts.options.logBufferSize);
    this.#routes = new RouteStats(() => parts.metrics.get(DURATION_METRIC) as Histogram<string> | undefined, parts.options.rateWindowMs);
    this.#system = new SystemHistory(parts.registry, parts.metricsPrefix, parts.options.historyPoints);
    this.#charts = new RequestHistory(parts.options.chartResolutionMs, parts.options.chartWindowMs);
    this.#exemplars = new ExemplarIndex(parts.buckets, parts.options.exemplarsPerBucket);
  }

  /** Plug in (or replace) data sources. */
  use(sources: DashboardSources): void {
    this.#sources = { ...this.#sources, ...sources };
  }

  /** Feed {@link Dashboard.logs} from a winston logger (the page then shows the logs panel). */
  attachLogger(logger: { add(transport: ReturnType<LogRing['transport']>): unknown }): void {
    if (this.#logsAttached || this.options.logBufferSize === 0) return;
    logger.add(this.logs.transport());
    this.#logsAttached = true;
  }

  /** The request participant that feeds the exemplar index. */
  participant(): RequestParticipant {
    return this.#exemplars.participant();
  }

  /** Start the background sampler (unref'd, never overlapping itself). */
  start(): void {
    if (this.#timer) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.options.sampleIntervalMs);
    this.#timer.unref();
  }

  /** Stop the sampler. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Take one sample of route counters (route table, request charts) and system gauges now. */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const now = Date.now();
      this.#charts.add(now, await this.#routes.sample(now), this.#routes.bounds);
      await this.#system.sample(now);
    } catch (err) {
      this.#parts.reportError('dashboard.sampler', err);
    } finally {
      this.#sampling = false;
    }
  }

  #recent(): readonly TraceSummaryView[] {
    const src = this.#sources.traces;
    if (!src) return [];
    try {
      return src.recent();
    } catch (err) {
      this.#parts.reportError('dashboard.traces', err);
      return [];
    }
  }

  /** Active and recent alerts (empty when alerting is off). */
  async alerts(): Promise<{ active: readonly AlertView[]; recent: readonly AlertView[] }> {
    const src = this.#sources.alerts;
    if (!src) return { active: [], recent: [] };
    try {
      return { active: await src.active(), recent: await src.recent() };
    } catch (err) {
      this.#parts.reportError('dashboard.alerts', err);
      return { active: [], recent: [] };
    }
  }

  /** Everything the page shows. */
  async summary(): Promise<DashboardSummary> {
    const [health, routes, alerts] = await Promise.all([safeHealth(this.#sources.health), this.#routes.table(), this.alerts()]);
    return {
      service: { name: this.#parts.serviceName, version: this.#parts.serviceVersion },
      nowMs: Date.now(),
      refreshMs: this.options.refreshMs,
      rateWindowMs: this.options.rateWindowMs,
      sources: {
        health: this.#sources.health !== undefined,
        traces: this.#sources.traces !== undefined,
        logs: this.#logsAttached,
        alerts: this.#sources.alerts !== undefined,
      },
      traceUrlTemplate: this.options.traceUrlTemplate,
      health,
      routes,
      system: this.#system.views(),
      alerts,
      traces: listTraces(this.#recent(), { limit: 25, sort: 'recent' }),
      errorLogs: this.logs.recent({ levels: ERROR_LEVELS, limit: 20 }),
    };
  }

  /** Request rate, error ratio and latency quantiles per chart bucket: of all routes, or of `method route`. */
  charts(method?: string, route?: string): ChartSeries {
    return this.#charts.series(method, route);
  }

  /** The recent-traces list. */
  traces(q: TraceQuery): TraceSummaryView[] {
    return listTraces(this.#recent(), q);
  }

  /** One trace with its log lines, or `undefined` when it is no longer in the buffer. */
  trace(traceId: string): TraceDetail | undefined {
    let spans: readonly SpanView[] | undefined;
    try {
      spans = this.#sources.traces?.get(traceId);
    } catch (err) {
      this.#parts.reportError('dashboard.traces', err);
    }
    const logs = this.logs.byTrace(traceId);
    if (!spans && logs.length === 0) return undefined;
    return { traceId, spans: waterfall(spans ?? []), logs, externalUrl: this.externalUrl(traceId) };
  }

  /** Link to the external trace UI, when `dashboard.traceUrlTemplate` is set. */
  externalUrl(traceId: string): string | undefined {
    return this.options.traceUrlTemplate?.split('{traceId}').join(encodeURIComponent(traceId));
  }

  /** A route's latency buckets with their exemplar traces. */
  async route(method: string, route: string): Promise<RouteDetail | undefined> {
    const b = await this.#routes.buckets(method, route);
    if (!b) return undefined;
    const inBuffer = new Set(this.#recent().map((t) => t.traceId));
    const ex = this.#exemplars.of(method, route) ?? [];
    return {
      ...b,
      exemplars: b.le.map((_, i) => [...(ex[i] ?? [])].reverse().map((e) => ({ ...e, inBuffer: inBuffer.has(e.traceId) }))),
    };
  }

  /** The traces behind an active or recent alert, or `undefined` when there is no such alert. */
  async alertTraces(name: string): Promise<{ alert: AlertView; traces: TraceSummaryView[] } | undefined> {
    const { active, recent } = await this.alerts();
    const alert = active.find((a) => a.name === name) ?? recent.find((a) => a.name === name);
    if (!alert) return undefined;
    return { alert, traces: tracesForAlert(this.#recent(), alert, Date.now(), this.options.rateWindowMs) };
  }
}
