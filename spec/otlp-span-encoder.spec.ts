/**
 * The package encodes each span for OTLP/protobuf as it ends (lib/otlp/span-encoder.ts) and frames a
 * batch around the encoded spans. The request must be byte for byte what the OpenTelemetry exporter's
 * own serialiser (`ProtobufTraceSerializer`) makes of the same spans, for every kind of value a span
 * can hold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { encodeSpan, encodeTraceRequest, ProtoWriter, type EncodedScopeSpans } from '../lib/otlp/span-encoder';

const HOSTILE = ['plain', '', 'quote " back \\ slash', 'tab\tnew\nline\u0000', 'é 日本 😀', 'lone \ud800', 'x'.repeat(42), 'y'.repeat(43), 'é'.repeat(200), 'z'.repeat(20_000)];

function provider(resource: Record<string, unknown>): { spans: ReadableSpan[]; p: BasicTracerProvider } {
  const spans: ReadableSpan[] = [];
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes(resource as never),
    spanProcessors: [{ onStart: () => undefined, onEnd: (s) => void spans.push(s), forceFlush: async () => undefined, shutdown: async () => undefined }],
  });
  return { spans, p };
}

/** Our request for `spans`: each encoded alone, grouped by scope in first-seen order. */
function ours(spans: ReadableSpan[]): Uint8Array {
  const groups = new Map<object, EncodedScopeSpans>();
  const w = new ProtoWriter(16);
  for (const s of spans) {
    w.pos = 0;
    encodeSpan(w, s);
    let g = groups.get(s.instrumentationScope);
    if (g === undefined) {
      g = { scope: s.instrumentationScope, spans: [] };
      groups.set(s.instrumentationScope, g);
    }
    g.spans.push(Uint8Array.from(w.buf.subarray(0, w.pos)));
  }
  const first = spans[0];
  assert.ok(first);
  return encodeTraceRequest({ resource: first.resource, scopes: [...groups.values()], count: spans.length });
}

function theirs(spans: ReadableSpan[]): Uint8Array {
  const out = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(out);
  return out;
}

describe('OTLP/protobuf span encoding', () => {
  it('frames spans into the same bytes as the exporter: every value type, events, links, statuses, parents, trace state, several scopes', () => {
    const { spans, p } = provider({ 'service.name': 'svc "x"', 'service.version': '1.0', n: 3, big: 2 ** 40, neg: -5, f: 0.25, flag: true, list: ['a', 'b'] });
    const a = p.getTracer('express-observability', '0.1.0');
    const b = p.getTracer('other', undefined, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
    const remote = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=1,other=two'),
    });
    HOSTILE.forEach((s, i) => {
      const tracer = i % 3 === 2 ? b : a;
      const span = tracer.startSpan(
        `GET ${s}`,
        {
          kind: [SpanKind.SERVER, SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER][i % 5],
          attributes: { 'url.path': `/p/${s}`, int: i, negative: -i - 1, huge: 2 ** 53 + i, float: i / 7, nan: Number.NaN, yes: i % 2 === 0, strings: [s, 'x'], numbers: [1, 2.5, -3], bools: [true, false], empty: [] },
          links: i % 4 === 0 ? [{ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: false }, attributes: { why: s } }] : [],
        },
        i % 2 === 0 ? remote : undefined,
      );
      if (i % 2 === 1) span.addEvent(`event ${s}`, { detail: s, count: i });
      span.addEvent('exception', { 'exception.type': 'Error', 'exception.message': s, 'exception.stacktrace': `Error: ${s}\n    at x (y.js:1:1)`.repeat(3) });
      if (i % 3 === 1) span.setStatus({ code: SpanStatusCode.ERROR, message: `failed: ${s}` });
      else if (i % 3 === 2) span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    });
    assert.equal(spans.length, HOSTILE.length);
    assert.deepEqual(Buffer.from(ours(spans)), Buffer.from(theirs(spans)));
  });

  it('one span, and a batch of 512 spans shaped like a request', () => {
    const { spans, p } = provider({ 'service.name': 'bench' });
    const t = p.getTracer('express-observability', '0.1.0');
    for (let i = 0; i < 512; i++) {
      const s = t.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': `/users/${i}`, 'server.port': 3000, 'user_agent.original': 'autocannon/8.0.0' } });
      s.updateName('GET /users/:id');
      s.setAttribute('http.response.status_code', 200);
      s.end();
    }
    assert.deepEqual(Buffer.from(ours(spans.slice(0, 1))), Buffer.from(theirs(spans.slice(0, 1))));
    assert.deepEqual(Buffer.from(ours(spans)), Buffer.from(theirs(spans)));
  });

  it('writes times past 2^53 nanoseconds exactly', () => {
    const { spans, p } = provider({});
    const t = p.getTracer('t');
    for (const start of [0, 1, 1_700_000_000_123, 4_102_444_800_999, 2 ** 31 * 1000 + 999]) t.startSpan('x', { startTime: start }).end(start + 1.5);
    assert.deepEqual(Buffer.from(ours(spans)), Buffer.from(theirs(spans)));
  });
});
