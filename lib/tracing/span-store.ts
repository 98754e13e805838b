import { SpanKind, SpanStatusCode, type Attributes, type Context } from '@opentelemetry/api';
import { hrTimeDuration, hrTimeToMilliseconds as ms } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeSpan, encodedTraceId, type DecodedSpan } from '../otlp/span-decoder';
import { encodedSpan, type ProtoWriter } from '../otlp/span-encoder';
import { ByteRing } from '../util/byte-ring';

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

/** A finished span as a {@link SpanRecord}, its attributes by reference: serialised at once, never kept. */
export function recordOf(s: ReadableSpan): SpanRecord {
  const service = s.resource.attributes['service.name'];
  const parent = s.parentSpanContext?.spanId;
  const code = STATUS[s.status.code] ?? 'unset';
  const { traceId, spanId } = s.spanContext();
  // Absent rather than undefined, so a record survives a JSON round trip unchanged.
  return {
    traceId,
    spanId,
    ...(parent === undefined ? {} : { parentSpanId: parent }),
    name: s.name,
    kind: KINDS[s.kind] ?? 'internal',
    startTime: ms(s.startTime),
    endTime: ms(s.endTime),
    duration: ms(s.duration),
    status: s.status.message === undefined ? { code } : { code, message: s.status.message },
    attributes: s.attributes,
    events: s.events.length === 0 ? [] : s.events.map((e) => ({ name: e.name, time: ms(e.time), attributes: e.attributes ?? {} })),
    ...(typeof service === 'string' ? { serviceName: service } : {}),
  };
}

/** A span the ring kept encoded, as the viewer reads it. */
function recordOfDecoded(d: DecodedSpan, service: string | undefined): SpanRecord {
  const code = STATUS[d.status.code] ?? 'unset';
  return {
    traceId: d.traceId,
    spanId: d.spanId,
    ...(d.parentSpanId === undefined ? {} : { parentSpanId: d.parentSpanId }),
    name: d.name,
    kind: KINDS[d.kind] ?? 'internal',
    startTime: ms(d.startTime),
    endTime: ms(d.endTime),
    duration: ms(hrTimeDuration(d.startTime, d.endTime)),
    status: d.status.message === undefined ? { code } : { code, message: d.status.message },
    attributes: d.attributes,
    events: d.events.map((e) => ({ name: e.name, time: ms(e.time), attributes: e.attributes })),
    ...(service === undefined ? {} : { serviceName: service }),
  };
}

/** Distinct service names the ring tells apart by its records' tags (more: those spans are kept as JSON). */
const MAX_SERVICES = 256;

/** Bytes the ring may use per span it keeps, encoded (a server span ~400; one with a stack trace a few KB). */
const BYTES_PER_SPAN = 2048;

/** Attributes a trace's summary reads ({@link summarize}): kept even when a span is too large for the ring. */
const SUMMARY_ATTRIBUTES = ['http.request.method', 'http.method', 'http.route', 'http.response.status_code', 'http.status_code'] as const;

/** A span too large for the ring is kept without its events and other attributes, marked with this attribute. */
const OMITTED_ATTRIBUTE = 'express_observability.span_too_large';

function statusMatches(q: TraceQuery['status'], summary: TraceSummary): boolean {
  if (q === undefined) return true;
  if (q === 'error') return summary.error;
  if (typeof q === 'number') return summary.statusCode === q;
  return summary.statusCode !== undefined && Math.floor(summary.statusCode / 100) === Number(q[0]);
}

/**
 * A span processor keeping the last `capacity` finished spans in a ring, in a buffer outside the
 * JavaScript heap ({@link ByteRing}: at most 2 KB per span on average), decoded only when read. A span
 * is kept as its OTLP/protobuf bytes, the ones the export queue copies too (encoded once per span,
 * `encodedSpan`), with its service name as the record's tag; a span the ring cannot keep whole is
 * kept as a {@link SpanRecord} in JSON without its events and other attributes (tag 0).
 */
export class SpanStore implements SpanProcessor {
  readonly #ring: ByteRing | undefined;
  /** Service names by tag - 1, and tags by service name. */
  readonly #services: (string | undefined)[] = [];
  readonly #tags = new Map<string | undefined, number>();

  /** A store of at most `capacity` spans (`0` keeps none). */
  constructor(readonly capacity: number) {
    this.#ring = capacity > 0 ? new ByteRing(capacity, capacity * BYTES_PER_SPAN) : undefined;
  }

  /** Nothing to do when a span starts. */
  onStart(_span: Span, _parentContext: Context): void {
    // Spans are stored when they end.
  }

  /** Keep the finished span, evicting the oldest. */
  onEnd(span: ReadableSpan): void {
    const ring = this.#ring;
    if (ring === undefined) return;
    const tag = this.#tagOf(span);
    if (tag !== 0) {
      let w: ProtoWriter | undefined;
      try {
        w = encodedSpan(span);
      } catch {
        // Nothing an SDK span can hold fails to encode; should it, the span is kept like one too large.
      }
      if (w !== undefined && ring.pushBytes(w.buf, 0, w.pos, tag)) return;
    }
    const record = recordOf(span);
    const kept: Attributes = { [OMITTED_ATTRIBUTE]: true };
    for (const key of SUMMARY_ATTRIBUTES) {
      const v = record.attributes[key];
      if (typeof v === 'number' || (typeof v === 'string' && v.length <= 256)) kept[key] = v;
    }
    ring.push(JSON.stringify({ ...record, attributes: kept, events: [] }));
  }

  /** The tag of the span's service name (0 once {@link MAX_SERVICES} are known and it is not one of them). */
  #tagOf(span: ReadableSpan): number {
    const name = span.resource.attributes['service.name'];
    const service = typeof name === 'string' ? name : undefined;
    let tag = this.#tags.get(service);
    if (tag === undefined) {
      if (this.#services.length >= MAX_SERVICES) return 0;
      this.#services.push(service);
      tag = this.#services.length;
      this.#tags.set(service, tag);
    }
    return tag;
  }

  /** Nothing buffered for export. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Drop every stored span. */
  shutdown(): Promise<void> {
    this.#ring?.clear();
    return Promise.resolve();
  }

  /** Stored spans, newest first; with `traceId` only that trace's. */
  #newestFirst(traceId?: string): SpanRecord[] {
    const out: SpanRecord[] = [];
    this.#ring?.forEachNewestBytes((bytes, start, end, _seq, tag) => {
      if (tag === 0) {
        const text = bytes.toString('utf8', start, end);
        if (traceId !== undefined && !text.includes(traceId)) return;
        const r = JSON.parse(text) as SpanRecord;
        if (traceId === undefined || r.traceId === traceId) out.push(r);
        return;
      }
      if (traceId !== undefined && encodedTraceId(bytes, start, end) !== traceId) return;
      out.push(recordOfDecoded(decodeSpan(bytes, start, end), this.#services[tag - 1]));
    });
    return out;
  }

  /**
   * Every stored span of `traceId` by start time; `undefined` when none is stored. Of spans that started
   * in the same millisecond (the SDK's start times are whole milliseconds), a parent comes before its
   * child, and others in the order they ended: siblings that ran one after another stay in that order.
   */
  getTrace(traceId: string): SpanRecord[] | undefined {
    const spans = this.#newestFirst(traceId).reverse();
    if (spans.length === 0) return undefined;
    // Depth in the stored tree (ancestors before descendants), then the order they ended.
    const byId = new Map(spans.map((sp) => [sp.spanId, sp]));
    const depth = new Map<SpanRecord, number>();
    const depthOf = (sp: SpanRecord): number => {
      let d = depth.get(sp);
      if (d === undefined) {
        const parent = sp.parentSpanId === undefined ? undefined : byId.get(sp.parentSpanId);
        depth.set(sp, 0); // a cycle (corrupt ids) stops here
        d = parent === undefined ? 0 : depthOf(parent) + 1;
        depth.set(sp, d);
      }
      return d;
    };
    // `spans` is in the order they ended, and the sort is stable: ties beyond depth keep that order.
    return spans.sort((a, b) => a.startTime - b.startTime || depthOf(a) - depthOf(b));
  }

  /** Summaries of the stored traces matching `q`, newest first. */
  recentTraces(q: TraceQuery = {}): TraceSummary[] {
    const limit = q.limit ?? 50;
    const byTrace = new Map<string, SpanRecord[]>();
    for (const s of this.#newestFirst()) {
      const list = byTrace.get(s.traceId);
      if (list) list.push(s);
      else byTrace.set(s.traceId, [s]);
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

function summarize(traceId: string, spans: readonly SpanRecord[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId));
  const root = roots.find((s) => s.kind === 'server') ?? roots[0] ?? (spans[0] as SpanRecord);
  const a = root.attributes;
  const code = a['http.response.status_code'] ?? a['http.status_code'];
  const route = a['http.route'];
  const method = a['http.request.method'] ?? a['http.method'];
  return {
    traceId,
    rootSpanId: root.spanId,
    name: root.name,
    method: typeof method === 'string' ? method : undefined,
    route: typeof route === 'string' ? route : undefined,
    statusCode: typeof code === 'number' ? code : undefined,
    error: spans.some((s) => s.status.code === 'error'),
    startTime: root.startTime,
    duration: root.duration,
    spanCount: spans.length,
  };
}
