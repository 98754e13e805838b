/**
 * The span ring stores each finished span as `spanJson(span)`: a template that must give exactly the
 * bytes `JSON.stringify` gives for the span's record (what the trace viewer and `getTrace()` parse).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { recordOf, spanJson } from '../lib/tracing/span-store';

const HOSTILE = ['plain', '', 'quote " back \\ slash', 'tab\tnew\nline\u0000', 'del \u007f', 'é 日本 😀', 'lone \ud800', '</script>', '\u2028'];

function collect(resource: Record<string, string>): { spans: ReadableSpan[]; tracer: ReturnType<BasicTracerProvider['getTracer']> } {
  const spans: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [{ onStart: () => undefined, onEnd: (s) => void spans.push(s), forceFlush: async () => undefined, shutdown: async () => undefined }],
  });
  return { spans, tracer: provider.getTracer('spec') };
}

describe('stored span JSON', () => {
  it('equals JSON.stringify of the span record, byte for byte, for any name, attribute, event and status', () => {
    const { spans, tracer } = collect({ 'service.name': 'svc "x"' });
    const remote = trace.setSpanContext(context.active(), { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true });
    HOSTILE.forEach((s, i) => {
      const span = tracer.startSpan(`GET ${s}`, { kind: i % 2 === 0 ? SpanKind.SERVER : SpanKind.INTERNAL, attributes: { 'url.path': `/p/${s}`, n: i, f: i / 3, b: i % 2 === 0, list: [s, 'x'], nums: [1, 2.5] } }, i % 3 === 0 ? remote : undefined);
      if (i % 2 === 1) span.addEvent(`event ${s}`, { detail: s, count: i });
      if (i % 3 === 1) span.setStatus({ code: SpanStatusCode.ERROR, message: `failed: ${s}` });
      else if (i % 3 === 2) span.setStatus({ code: SpanStatusCode.OK });
      span.end();
    });
    assert.equal(spans.length, HOSTILE.length);
    for (const span of spans) {
      assert.equal(spanJson(span), JSON.stringify(recordOf(span)), span.name);
      assert.deepEqual(JSON.parse(spanJson(span)), recordOf(span));
    }
    assert.ok(spans.some((s) => JSON.parse(spanJson(s)).parentSpanId === 'b'.repeat(16)), 'a span with a remote parent');
  });

  it('leaves serviceName out when the resource has no string service.name', () => {
    const { spans, tracer } = collect({ 'service.name': 5 } as never);
    tracer.startSpan('job').end();
    const [span] = spans;
    assert.ok(span);
    assert.equal(span.resource.attributes['service.name'], 5);
    assert.equal(spanJson(span), JSON.stringify(recordOf(span)));
    assert.equal('serviceName' in (JSON.parse(spanJson(span)) as object), false);
  });
});
