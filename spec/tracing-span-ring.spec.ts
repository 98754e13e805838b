/**
 * The trace viewer's ring keeps each finished span as its OTLP/protobuf bytes and decodes them when
 * read: what `getTrace()` returns must be the span's record as the viewer always served it (the
 * JSON form of `recordOf(span)`), for any name, attribute, event, status and parent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { decodeSpan } from '../lib/otlp/span-decoder';
import { encodedSpan } from '../lib/otlp/span-encoder';
import { recordOf, SpanStore, type SpanRecord } from '../lib/tracing/span-store';

const HOSTILE = ['plain', '', 'quote " back \\ slash', 'tab\tnew\nline\u0000', 'del \u007f', 'é 日本 😀', 'lone \ud800', '</script>', '\u2028', 'x'.repeat(5_000)];

/** Spans ended under `store`; with `exportFirst`, a processor before the store takes each span's encoding first, as the export queue does. */
function collect(resource: Attributes, store: SpanStore, exportFirst = false): { spans: ReadableSpan[]; tracer: ReturnType<BasicTracerProvider['getTracer']> } {
  const spans: ReadableSpan[] = [];
  const exporter = {
    onStart: () => undefined,
    onEnd: (s: ReadableSpan) => {
      const w = encodedSpan(s);
      assert.equal(decodeSpan(w.buf, 0, w.pos).spanId, s.spanContext().spanId);
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [...(exportFirst ? [exporter] : []), store, { onStart: () => undefined, onEnd: (s) => void spans.push(s), forceFlush: async () => undefined, shutdown: async () => undefined }],
  });
  return { spans, tracer: provider.getTracer('spec') };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The record as the viewer served it (a JSON round trip), strings as UTF-8 carries them (a lone surrogate becomes U+FFFD). */
function expected(span: ReadableSpan): SpanRecord {
  return JSON.parse(JSON.stringify(recordOf(span)), (_k, v: unknown) => (typeof v === 'string' ? v.replace(LONE_SURROGATE, '\ufffd') : v)) as SpanRecord;
}

describe('the span ring', () => {
  for (const exportFirst of [false, true]) it(`gives back each span's record: ids, parent, name, kind, times, attributes of every type, events, status, service${exportFirst ? ' (encoded first for export)' : ''}`, () => {
    const store = new SpanStore(100);
    const { spans, tracer } = collect({ 'service.name': 'svc "x"' }, store, exportFirst);
    const remote = trace.setSpanContext(context.active(), { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true });
    HOSTILE.forEach((s, i) => {
      const attributes = { 'url.path': `/p/${s}`, n: i, neg: -i - 1, big: 2 ** 60 + i * 4096, small: -(2 ** 40), f: i / 3, b: i % 2 === 0, list: [s, 'x'], nums: [1, 2.5], flags: [true, false] };
      const span = tracer.startSpan(`GET ${s}`, { kind: [SpanKind.SERVER, SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER][i % 5], attributes }, i % 3 === 0 ? remote : undefined);
      if (i % 2 === 1) span.addEvent(`event ${s}`, { detail: s, count: i });
      if (i % 4 === 1) span.recordException(new TypeError(`bad ${s}`));
      if (i % 3 === 1) span.setStatus({ code: SpanStatusCode.ERROR, message: `failed: ${s}` });
      else if (i % 3 === 2) span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    });
    // A child of a local parent.
    const parent = tracer.startSpan('parent');
    tracer.startSpan('child', {}, trace.setSpan(context.active(), parent)).end();
    parent.end();
    assert.equal(spans.length, HOSTILE.length + 2);
    for (const span of spans) {
      const got = store.getTrace(span.spanContext().traceId)?.find((r) => r.spanId === span.spanContext().spanId);
      assert.deepEqual(got, expected(span), span.name.slice(0, 40));
    }
    assert.ok(spans.some((s) => store.getTrace(s.spanContext().traceId)?.[0]?.parentSpanId === 'b'.repeat(16)), 'a span with a remote parent');
    assert.equal(store.getTrace('a'.repeat(32))?.length, Math.ceil(HOSTILE.length / 3), 'getTrace finds every span of a trace');
    const family = store.getTrace(parent.spanContext().traceId);
    assert.deepEqual(family?.map((r) => r.name), ['parent', 'child']);
    assert.equal(family?.[1]?.parentSpanId, parent.spanContext().spanId);
    assert.ok(store.recentTraces().length > 0);
  });

  it('getTrace: spans that started in the same millisecond come in the order they ended (siblings run one after another)', () => {
    const store = new SpanStore(100);
    const { tracer } = collect({ 'service.name': 'svc' }, store);
    const root = tracer.startSpan('root', { startTime: 1_700_000_000_000 });
    const ctx = trace.setSpan(context.active(), root);
    for (let i = 0; i < 5; i++) {
      // Two by two in one millisecond, as the SDK's whole-millisecond start times make them.
      const t = 1_700_000_000_001 + Math.floor(i / 2);
      tracer.startSpan(`step ${i}`, { startTime: t }, ctx).end(t + 0.5);
    }
    root.end(1_700_000_000_010);
    const got = store.getTrace(root.spanContext().traceId)?.map((r) => r.name);
    assert.deepEqual(got, ['root', 'step 0', 'step 1', 'step 2', 'step 3', 'step 4']);
    // Three generations and a sibling, all in one millisecond: ancestors first, then the order they ended.
    const t = 1_700_000_001_000;
    const top = tracer.startSpan('top', { startTime: t });
    const mid = tracer.startSpan('mid', { startTime: t }, trace.setSpan(context.active(), top));
    tracer.startSpan('leaf', { startTime: t }, trace.setSpan(context.active(), mid)).end(t + 0.1);
    tracer.startSpan('sibling', { startTime: t }, trace.setSpan(context.active(), top)).end(t + 0.2);
    mid.end(t + 0.3);
    top.end(t + 0.4);
    assert.deepEqual(store.getTrace(top.spanContext().traceId)?.map((r) => r.name), ['top', 'sibling', 'mid', 'leaf']);
  });

  it('two spans ended with one HrTime array are two spans (the SDK keeps the array it is given)', () => {
    const store = new SpanStore(100);
    const { tracer } = collect({ 'service.name': 'svc' }, store, true);
    const parent = tracer.startSpan('parent');
    const child = tracer.startSpan('child', {}, trace.setSpan(context.active(), parent));
    const now = hrTime();
    child.end(now);
    parent.end(now);
    const got = store.getTrace(parent.spanContext().traceId)?.map((r) => r.name);
    assert.deepEqual(got, ['parent', 'child']);
  });

  it('leaves serviceName out when the resource has no string service.name, and tells services apart', () => {
    const store = new SpanStore(10);
    const a = collect({ 'service.name': 5 }, store);
    const b = collect({ 'service.name': 'billing' }, store);
    a.tracer.startSpan('job').end();
    b.tracer.startSpan('invoice').end();
    const [ja] = a.spans;
    const [jb] = b.spans;
    assert.ok(ja && jb);
    const ra = store.getTrace(ja.spanContext().traceId)?.[0];
    assert.deepEqual(ra, expected(ja));
    assert.equal(ra && 'serviceName' in ra, false);
    assert.equal(store.getTrace(jb.spanContext().traceId)?.[0]?.serviceName, 'billing');
  });

  it('keeps a span too large for the ring by its summary, marked', () => {
    // 4 spans × 4 KB: a record may take a quarter of 16 KB.
    const store = new SpanStore(4);
    const { spans, tracer } = collect({ 'service.name': 'svc' }, store);
    const span = tracer.startSpan('GET /big', { kind: SpanKind.SERVER, attributes: { 'http.route': '/big', 'http.response.status_code': 200, blob: 'y'.repeat(8000) } });
    span.addEvent('e', { more: 'z'.repeat(100) });
    span.end();
    const [s] = spans;
    assert.ok(s);
    const got = store.getTrace(s.spanContext().traceId)?.[0];
    assert.deepEqual(got?.attributes, { 'express_observability.span_too_large': true, 'http.route': '/big', 'http.response.status_code': 200 });
    assert.deepEqual(got?.events, []);
    assert.equal(got?.name, 'GET /big');
  });
});
