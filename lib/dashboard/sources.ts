import { errorMessage } from '../util/warn';
import type { HealthProvider, HealthReport } from '../health/health';
import type { SpanRecord, TraceSummary } from '../tracing/span-store';
import type { AlertSnapshot } from '../alerts/types';

/** A span as the dashboard shows it (plain JSON, times in epoch milliseconds). */
export interface SpanView {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** `INTERNAL`, `SERVER`, `CLIENT`, `PRODUCER` or `CONSUMER`. */
  readonly kind: string;
  readonly startMs: number;
  readonly durationMs: number;
  /** `UNSET`, `OK` or `ERROR`. */
  readonly status: string;
  readonly statusMessage: string | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly events: readonly { readonly name: string; readonly timeMs: number; readonly attributes: Readonly<Record<string, unknown>> }[];
}

/** One trace of the buffer, described by its local root span. */
export interface TraceSummaryView {
  readonly traceId: string;
  readonly name: string;
  readonly method: string | undefined;
  readonly route: string | undefined;
  readonly statusCode: number | undefined;
  readonly error: boolean;
  readonly startMs: number;
  readonly durationMs: number;
  readonly spanCount: number;
}

/** Where the dashboard reads traces from (the tracer's in-memory ring buffer). */
export interface TraceSource {
  /** Every trace in the buffer, newest first. */
  recent(): readonly TraceSummaryView[];
  /** The spans of one trace, or `undefined` when it is no longer buffered. */
  get(traceId: string): readonly SpanView[] | undefined;
}

/** One alert as the dashboard shows it. */
export interface AlertView {
  readonly name: string;
  /** `pending`, `firing` or `resolved`. */
  readonly state: string;
  readonly severity: string | undefined;
  readonly summary: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly activeSinceMs: number | undefined;
  readonly resolvedAtMs: number | undefined;
  readonly value: number | undefined;
}

/** Where the dashboard reads alerts from. */
export interface AlertSource {
  /** Pending and firing alerts. */
  active(): readonly AlertView[] | Promise<readonly AlertView[]>;
  /** Recently resolved (and other recent) alerts. */
  recent(): readonly AlertView[] | Promise<readonly AlertView[]>;
}

/** The data sources of a dashboard; each is optional and the page shows what is there. */
export interface DashboardSources {
  readonly health?: HealthProvider;
  readonly traces?: TraceSource;
  readonly alerts?: AlertSource;
}

/** A span as the tracer's ring buffer returns it (`obs.tracing.getTrace()`). */
export type SpanRecordLike = SpanRecord;

/** A trace summary as the tracer returns it (`obs.tracing.recentTraces()`). */
export type TraceSummaryLike = TraceSummary;

/** What the dashboard needs of the tracer. */
export interface TracerLike {
  readonly enabled: boolean;
  recentTraces(query: { limit?: number }): readonly TraceSummaryLike[];
  getTrace(traceId: string): readonly SpanRecordLike[] | undefined;
}

/** Convert a span of the tracer's buffer into a {@link SpanView}. */
export function spanViewOf(s: SpanRecordLike): SpanView {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: s.kind.toUpperCase(),
    startMs: s.startTime,
    durationMs: s.duration,
    status: s.status.code.toUpperCase(),
    statusMessage: s.status.message || undefined,
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, timeMs: e.time, attributes: e.attributes })),
  };
}

/** Adapt the instance's tracer (`obs.tracing`) to a {@link TraceSource}; `undefined` when tracing is off. */
export function traceSourceOf(tracer: TracerLike | undefined, maxTraces: number): TraceSource | undefined {
  if (!tracer || !tracer.enabled) return undefined;
  return {
    recent: () =>
      tracer.recentTraces({ limit: maxTraces }).map((t) => ({
        traceId: t.traceId,
        name: t.name,
        method: t.method,
        route: t.route,
        statusCode: t.statusCode,
        error: t.error || (t.statusCode !== undefined && t.statusCode >= 500),
        startMs: t.startTime,
        durationMs: t.duration,
        spanCount: t.spanCount,
      })),
    get: (id) => tracer.getTrace(id)?.map(spanViewOf),
  };
}

/** Health report that never rejects (a failing provider shows as `fail`). */
export async function safeHealth(h: HealthProvider | undefined): Promise<HealthReport | undefined> {
  if (!h) return undefined;
  try {
    return await h.report();
  } catch (err) {
    return { status: 'fail', output: `health evaluation failed: ${errorMessage(err)}` };
  }
}

/** An alert of the instance's rule engine (`obs.alerts.status()[i].alerts[j]`), the fields shown. */
type AlertSnapshotLike = Pick<AlertSnapshot, 'labels' | 'annotations' | 'state' | 'value' | 'activeAt' | 'resolvedAt'>;

/** What the dashboard needs of the alert engine (`obs.alerts`). */
export interface AlertEngineLike {
  status(): readonly { readonly name: string; readonly severity?: string; readonly alerts: readonly AlertSnapshotLike[] }[];
}

const time = (iso: string | undefined): number | undefined => {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
};

/** Adapt the alert engine to an {@link AlertSource}: pending/firing alerts, and the recently resolved ones. */
export function alertSourceOf(engine: AlertEngineLike): AlertSource {
  const all = (): AlertView[] =>
    engine.status().flatMap((rule) =>
      rule.alerts.map((a) => ({
        name: rule.name,
        state: a.state,
        severity: a.labels.severity ?? rule.severity,
        summary: a.annotations.summary ?? a.annotations.description,
        labels: a.labels,
        activeSinceMs: time(a.activeAt),
        resolvedAtMs: time(a.resolvedAt),
        value: a.value,
      })),
    );
  return {
    active: () => all().filter((a) => a.state === 'pending' || a.state === 'firing').sort((a, b) => Number(b.state === 'firing') - Number(a.state === 'firing')),
    recent: () => all().filter((a) => a.state === 'resolved').sort((a, b) => (b.resolvedAtMs ?? 0) - (a.resolvedAtMs ?? 0)),
  };
}
