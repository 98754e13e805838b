import type { AlertView, SpanView, TraceSummaryView } from './sources';

/** Filter and order of {@link listTraces}. */
export interface TraceQuery {
  readonly route?: string;
  /** `error`, `ok`, or a status code / class (`500`, `5xx`). */
  readonly status?: string;
  readonly minMs?: number;
  /** `slowest`, `recent`; default: errors first, then slowest. */
  readonly sort?: string;
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly limit?: number;
}

/** A span of a trace with its depth in the tree (for the waterfall). */
export interface WaterfallSpan extends SpanView {
  readonly depth: number;
}

function statusMatches(t: TraceSummaryView, status: string | undefined): boolean {
  if (!status) return true;
  if (status === 'error') return t.error;
  if (status === 'ok') return !t.error;
  const m = /^([1-5])xx$/i.exec(status);
  if (m) return t.statusCode !== undefined && Math.floor(t.statusCode / 100) === Number(m[1]);
  return t.statusCode !== undefined && String(t.statusCode) === status;
}

/** The recent-traces list: filtered, errors first then slowest (or newest first with `sort=recent`). */
export function listTraces(all: readonly TraceSummaryView[], q: TraceQuery = {}): TraceSummaryView[] {
  const out: TraceSummaryView[] = [];
  for (const t of all) {
    if (q.route && t.route !== q.route && t.name !== q.route) continue;
    if (!statusMatches(t, q.status)) continue;
    if (q.minMs !== undefined && t.durationMs < q.minMs) continue;
    if (q.fromMs !== undefined && t.startMs + t.durationMs < q.fromMs) continue;
    if (q.toMs !== undefined && t.startMs > q.toMs) continue;
    out.push(t);
  }
  if (q.sort === 'recent') out.sort((a, b) => b.startMs - a.startMs);
  else if (q.sort === 'slowest') out.sort((a, b) => b.durationMs - a.durationMs);
  else out.sort((a, b) => Number(b.error) - Number(a.error) || b.durationMs - a.durationMs);
  return out.slice(0, q.limit ?? 100);
}

/** The spans of one trace in waterfall order (depth-first, siblings by start time). */
export function waterfall(mine: readonly SpanView[]): WaterfallSpan[] {
  const ids = new Set(mine.map((s) => s.spanId));
  const children = new Map<string, SpanView[]>();
  const roots: SpanView[] = [];
  for (const s of mine) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId);
      if (list) list.push(s);
      else children.set(s.parentSpanId, [s]);
    } else roots.push(s);
  }
  const out: WaterfallSpan[] = [];
  const visit = (s: SpanView, depth: number): void => {
    out.push({ ...s, depth });
    const kids = (children.get(s.spanId) ?? []).sort((a, b) => a.startMs - b.startMs);
    for (const k of kids) visit(k, depth + 1);
  };
  for (const r of roots.sort((a, b) => a.startMs - b.startMs)) visit(r, 0);
  return out;
}

/** The traces behind an alert: its route (when the alert has a `route` label) during its active period. */
export function tracesForAlert(all: readonly TraceSummaryView[], alert: AlertView, nowMs: number, lookbackMs: number): TraceSummaryView[] {
  const route = alert.labels.route;
  const from = (alert.activeSinceMs ?? nowMs) - lookbackMs;
  const to = alert.resolvedAtMs ?? nowMs;
  return listTraces(all, { ...(route ? { route } : {}), fromMs: from, toMs: to, limit: 50 });
}
