/**
 * Spans waiting for OTLP/protobuf export wait as encoded bytes (lib/otlp/encoded-span-processor.ts):
 * no SDK span object stays reachable between its end and its export, and the batching rules are
 * the SDK batch processor's. Checked against the stand-in collector, which decodes every request.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import express from 'express';
import { createObservability } from '../lib';
import { listen, pool, request, waitFor } from './support/http';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';
import { exposeGc } from './support/v8';
import { samples } from './support/exposition';

const gc = exposeGc();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An app whose route keeps a WeakRef to each request's SERVER span; `n` requests through it. */
async function run(receiver: OtlpReceiver, tracing: Record<string, unknown>, n: number) {
  const obs = createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false }, tracing: { endpoint: receiver.tracesUrl, ...tracing } } as never);
  const refs: WeakRef<object>[] = [];
  const app = express();
  app.use(obs.middleware);
  app.get('/users/:id', (req, res) => {
    const span = trace.getActiveSpan();
    assert.ok(span);
    refs.push(new WeakRef(span));
    res.json({ id: req.params.id });
  });
  const server = await listen(app);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  await pool(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i) => assert.equal((await request(server.url, `/users/${i}`, { agent })).status, 200),
  );
  agent.destroy();
  // Connections keep their last request's context (not its ended span, spec/request-retention.spec.ts) until they close.
  await server.close();
  return { obs, refs };
}

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await sleep(10);
    gc();
  }
}

describe('the OTLP/protobuf export queue', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  it('holds no SDK span while it waits, and then delivers every one (the SDK processor of http/json holds them all)', async () => {
    const hold = { scheduledDelayMillis: 600_000, maxQueueSize: 2048, maxExportBatchSize: 2048 };
    receiver.spans.length = 0;
    const proto = await run(receiver, hold, 300);
    await collect();
    assert.equal(receiver.spans.length, 0, 'nothing exported yet');
    assert.equal(proto.refs.filter((r) => r.deref() !== undefined).length, 0, 'no queued span is reachable');
    await proto.obs.tracing.forceFlush();
    const spans = await receiver.waitForSpans((s) => s.length >= 300);
    assert.equal(spans.length, 300);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, 300);
    assert.ok(spans.every((s) => s.name === 'GET /users/:id' && s.attributes['http.route'] === '/users/:id'));
    assert.deepEqual(receiver.errors, []);
    await proto.obs.shutdown();

    receiver.spans.length = 0;
    const json = await run(receiver, { ...hold, protocol: 'http/json' }, 300);
    await collect();
    assert.equal(json.refs.filter((r) => r.deref() !== undefined).length, 300, 'the SDK batch processor keeps every span until export');
    await json.obs.tracing.forceFlush();
    await receiver.waitForSpans((s) => s.length >= 300);
    await json.obs.shutdown();
  });

  it('sends a batch of interleaved scopes, spans across the ends of its shared buffers and spans larger than a buffer, each span whole under its own scope', async () => {
    receiver.spans.length = 0;
    const obs = createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false }, tracing: { endpoint: receiver.tracesUrl, registerGlobal: true, scheduledDelayMillis: 600_000, maxQueueSize: 2048, maxExportBatchSize: 2048 } } as never);
    const tracers = [trace.getTracer('scope-a', '1.0.0'), trace.getTracer('scope-b'), trace.getTracer('scope-a', '1.0.0')];
    // ~9 KB per span: the shared 256 KB buffers fill every ~28 spans; every 40th span is larger than a buffer.
    const expected: Array<{ name: string; scope: string; size: number }> = [];
    for (let i = 0; i < 200; i++) {
      const tracer = tracers[i % 3] as ReturnType<typeof trace.getTracer>;
      const size = i % 40 === 39 ? 300_000 : 9000 + i;
      const name = `span-${i}`;
      tracer.startSpan(name, { attributes: { pad: String.fromCharCode(97 + (i % 26)).repeat(size), i } }).end();
      expected.push({ name, scope: i % 3 === 1 ? 'scope-b' : 'scope-a', size });
    }
    await obs.tracing.forceFlush();
    const spans = await receiver.waitForSpans((got) => got.length >= 200);
    assert.equal(spans.length, 200);
    const byName = new Map(spans.map((sp) => [sp.name, sp]));
    for (const e of expected) {
      const sp = byName.get(e.name);
      assert.ok(sp, e.name);
      assert.equal(sp.scope.name, e.scope, `${e.name}'s scope`);
      assert.equal(String(sp.attributes.pad).length, e.size, `${e.name}'s attribute`);
      assert.equal(Number(sp.attributes.i), Number(e.name.slice(5)));
    }
    assert.deepEqual(receiver.errors, []);
    await obs.shutdown();
  });

  it('keeps exporting every span whole as its queue wraps around, and counts the spans it had no room for', async () => {
    receiver.spans.length = 0;
    // A queue of 64 spans exported 20 at a time, under 8 concurrent clients: its ring wraps many times over and may fill.
    const { obs } = await run(receiver, { scheduledDelayMillis: 5, maxQueueSize: 64, maxExportBatchSize: 20 }, 600);
    await obs.tracing.forceFlush();
    const counts = async (): Promise<{ exported: number; dropped: number }> => {
      const text = await obs.registry.metrics();
      return {
        exported: samples(text, 'observability_spans_exported_total')[0]?.value ?? 0,
        dropped: samples(text, 'observability_spans_dropped_total', { reason: 'queue_full' })[0]?.value ?? 0,
      };
    };
    // An export already under way when forceFlush() was called is counted when it is answered.
    const { exported, dropped } = await waitFor(
      async () => {
        const c = await counts();
        return c.exported + c.dropped >= 600 ? c : undefined;
      },
      2000,
      20,
      'every span exported or counted dropped',
    );
    const spans = await receiver.waitForSpans((got) => got.length >= exported);
    assert.equal(exported + dropped, 600, `${exported} exported + ${dropped} dropped`);
    assert.equal(spans.length, exported);
    assert.equal(new Set(spans.map((sp) => sp.spanId)).size, exported, 'no span twice');
    assert.ok(spans.every((sp) => sp.name === 'GET /users/:id' && sp.attributes['http.route'] === '/users/:id'));
    const ids = spans.map((sp) => Number(String(sp.attributes['url.path']).slice('/users/'.length)));
    assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 600));
    assert.deepEqual(receiver.errors, []);
    await obs.shutdown();
  });

  it('sends full batches at once and a partial batch after scheduledDelayMillis, never more than maxExportBatchSize per request', async () => {
    receiver.spans.length = 0;
    receiver.requests.length = 0;
    const { obs } = await run(receiver, { scheduledDelayMillis: 300, maxQueueSize: 1000, maxExportBatchSize: 50 }, 120);
    const spans = await receiver.waitForSpans((s) => s.length >= 120, 5000);
    assert.equal(spans.length, 120, 'all delivered without a flush');
    assert.ok(receiver.requests.length >= 3, `at least ceil(120 / 50) requests, got ${receiver.requests.length}`);
    assert.ok(receiver.requests.every((h) => h['content-type'] === 'application/x-protobuf'));
    await obs.shutdown();
  });
});
