import { SpanKind, SpanStatusCode, type Attributes, type Context, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A span kind by name, as options take it and as {@link SpanRecord} reports it. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** Each span kind name's OpenTelemetry `SpanKind` (the one table of both directions). */
export const SPAN_KIND_BY_NAME: Readonly<Record<SpanKindName, SpanKind>> = Object.freeze({
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
});

const KINDS: Record<number, SpanKindName> = Object.fromEntries(
  (Object.keys(SPAN_KIND_BY_NAME) as SpanKindName[]).map((name) => [SPAN_KIND_BY_NAME[name], name]),
) as Record<number, SpanKindName>;

/** A finished span as plain JSON-able data (what the trace viewer reads). */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  /** Parent span id, local or remote; absent for a trace's root. */
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: SpanKindName;
  /** Epoch milliseconds (fractional). */
  readonly startTime: number;
  readonly endTime: number;
  /** Milliseconds. */
  readonly duration: number;
  readonly status: { readonly code: 'unset' | 'ok' | 'error'; readonly message?: string };
  readonly attributes: Attributes;
  /** Span events, exceptions included (`exception.type`, `exception.message`, `exception.stacktrace`). */
  readonly events: readonly { readonly name: string; readonly time: number; readonly attributes: Attributes }[];
  readonly serviceName?: string;
}

/** One trace as listed by `recentTraces()`, described by its local root span. */
export interface TraceSummary {
  readonly traceId: string;
  readonly rootSpanId: string;
  /** Name of the root span (`GET /users/:id`). */
  readonly name: string;
  readonly method: string | undefined;
  readonly route: string | undefined;
  readonly statusCode: number | undefined;
  /** True when any span of the trace has status ERROR. */
  readonly error: boolean;
  readonly startTime: number;
  readonly duration: number;
  readonly spanCount: number;
}

/** Filter of `recentTraces()`. */
export interface TraceQuery {
  /** Exact `http.route` of the root span (`/users/:id`). */
  readonly route?: string;
  /** HTTP status code, a class (`'5xx'`), or `'error'` (any span with status ERROR). */
  readonly status?: number | '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'error';
  /** Root span at least this long, ms. */
  readonly minDurationMs?: number;
  /** At most this many traces, newest first. Default 50. */
  readonly limit?: number;
}

const STATUS: Record<number, SpanRecord['status']['code']> = {
  [SpanStatusCode.UNSET]: 'unset',
  [SpanStatusCode.OK]: 'ok',
  [SpanStatusCode.ERROR]: 'error',
};

function ms(t: HrTime): number {
  return t[0] * 1000 + t[1] / 1e6;
}

/** Plain-data copy of a finished span. */
export function toSpanRecord(s: ReadableSpan): SpanRecord {
  const service = s.resource.attributes['service.name'];
  const parent = s.parentSpanContext?.spanId;
  const code = STATUS[s.status.code] ?? 'unset';
  // Absent rather than undefined, so a record survives a JSON round trip unchanged.
  return {
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    ...(parent === undefined ? {} : { parentSpanId: parent }),
    name: s.name,
    kind: KINDS[s.kind] ?? 'internal',
    startTime: ms(s.startTime),
    endTime: ms(s.endTime),
    duration: ms(s.duration),
    status: s.status.message === undefined ? { code } : { code, message: s.status.message },
    attributes: { ...s.attributes },
    events: s.events.map((e) => ({ name: e.name, time: ms(e.time), attributes: { ...(e.attributes ?? {}) } })),
    ...(typeof service === 'string' ? { serviceName: service } : {}),
  };
}

function statusMatches(q: TraceQuery['status'], summary: TraceSummary): boolean {
  if (q === undefined) return true;
  if (q === 'error') return summary.error;
  if (typeof q === 'number') return summary.statusCode === q;
  return summary.statusCode !== undefined && Math.floor(summary.statusCode / 100) === Number(q[0]);
}

/**
 * A span processor keeping the last `capacity` finished spans in a ring. Spans are kept as the
 * SDK's immutable ReadableSpan objects and converted to {@link SpanRecord} only when read, so the
 * request path pays one array store per span.
 */
export class SpanStore implements SpanProcessor {
  readonly #ring: (ReadableSpan | undefined)[];
  #next = 0;

  /** A store of at most `capacity` spans (`0` keeps none). */
  constructor(readonly capacity: number) {
    this.#ring = new Array<ReadableSpan | undefined>(capacity);
  }

  /** Nothing to do when a span starts. */
  onStart(_span: Span, _parentContext: Context): void {
    // Spans are stored when they end.
  }

  /** Keep the finished span, overwriting the oldest. */
  onEnd(span: ReadableSpan): void {
    if (this.capacity === 0) return;
    this.#ring[this.#next] = span;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Nothing buffered for export. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Drop every stored span. */
  shutdown(): Promise<void> {
    this.#ring.fill(undefined);
    return Promise.resolve();
  }

  /** Stored spans, newest first. */
  #newestFirst(): ReadableSpan[] {
    const out: ReadableSpan[] = [];
    for (let i = 1; i <= this.capacity; i++) {
      const s = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** Every stored span of `traceId`, oldest first; `undefined` when none is stored. */
  getTrace(traceId: string): SpanRecord[] | undefined {
    const spans = this.#newestFirst().filter((s) => s.spanContext().traceId === traceId);
    if (spans.length === 0) return undefined;
    return spans.map(toSpanRecord).sort((a, b) => a.startTime - b.startTime);
  }

  /** Summaries of the stored traces matching `q`, newest first. */
  recentTraces(q: TraceQuery = {}): TraceSummary[] {
    const limit = q.limit ?? 50;
    const byTrace = new Map<string, ReadableSpan[]>();
    for (const s of this.#newestFirst()) {
      const id = s.spanContext().traceId;
      const list = byTrace.get(id);
      if (list) list.push(s);
      else byTrace.set(id, [s]);
    }
    const out: TraceSummary[] = [];
    for (const [traceId, spans] of byTrace) {
      const summary = summarize(traceId, spans);
      if (q.route !== undefined && summary.route !== q.route) continue;
      if (!statusMatches(q.status, summary)) continue;
      if (q.minDurationMs !== undefined && summary.duration < q.minDurationMs) continue;
      out.push(summary);
      if (out.length >= limit) break;
    }
    return out;
  }
}

function summarize(traceId: string, spans: readonly ReadableSpan[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const roots = spans.filter((s) => s.parentSpanContext === undefined || !ids.has(s.parentSpanContext.spanId));
  const root = roots.find((s) => s.kind === SpanKind.SERVER) ?? roots[0] ?? (spans[0] as ReadableSpan);
  const a = root.attributes;
  const code = a['http.response.status_code'] ?? a['http.status_code'];
  const route = a['http.route'];
  const method = a['http.request.method'] ?? a['http.method'];
  return {
    traceId,
    rootSpanId: root.spanContext().spanId,
    name: root.name,
    method: typeof method === 'string' ? method : undefined,
    route: typeof route === 'string' ? route : undefined,
    statusCode: typeof code === 'number' ? code : undefined,
    error: spans.some((s) => s.status.code === SpanStatusCode.ERROR),
    startTime: ms(root.startTime),
    duration: ms(root.duration),
    spanCount: spans.length,
  };
}
