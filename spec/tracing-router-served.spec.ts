// Requests the observability router answers itself are never traced: the span the middleware started
// for them when they came in is ended, and neither exported nor kept in the trace viewer's ring.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace, type Context } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { listen, request } from './support/http';
import { startOtlpReceiver } from './support/otlp-receiver';

/** The app of these tests: the middleware at the root, the router at the root and under /observability, one app route. */
async function serve(obs: Observability): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  app.use('/observability', obs.router);
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  return listen(app);
}

const ROUTER_PATHS = ['/metrics', '/health', '/health/live', '/observability/metrics', '/observability/health/ready'];

describe('spans of requests the observability router answers', () => {
  it('are neither exported nor kept in the ring, at the root or under a prefix; the app route is', async () => {
    const receiver = await startOtlpReceiver();
    const obs = createObservability({
      serviceName: 'served-spans',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false },
      tracing: { endpoint: receiver.tracesUrl, ringBufferSize: 100, scheduledDelayMillis: 50 },
    });
    const server = await serve(obs);
    try {
      for (const p of ROUTER_PATHS) assert.equal((await request(server.url, p)).status, 200, p);
      assert.equal((await request(server.url, '/users/7')).status, 200);
      const spans = await receiver.waitForSpans((s) => s.some((x) => x.attributes['url.path'] === '/users/7'));
      // Give a span of the router's requests every chance to arrive too.
      await obs.tracing.forceFlush();
      const paths = receiver.spans.map((s) => String(s.attributes['url.path']));
      assert.deepEqual(paths, ['/users/7'], `exported: ${paths.join(', ')} (first wait saw ${spans.length})`);
      const kept = obs.tracing.recentTraces().map((t) => t.name);
      assert.deepEqual(kept, ['GET /users/:id'], 'the ring holds the app request only');
    } finally {
      await server.close();
      await obs.shutdown();
      await receiver.close();
    }
  });

  it('are ended under an application-owned provider, so its processors never hold a span that never ends', async () => {
    const started = new Set<Span>();
    const ended: ReadableSpan[] = [];
    const recorder: SpanProcessor = {
      onStart: (span: Span, _ctx: Context) => void started.add(span),
      onEnd: (span: ReadableSpan) => void ended.push(span),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const appProvider = new BasicTracerProvider({ spanProcessors: [recorder] });
    assert.equal(trace.setGlobalTracerProvider(appProvider), true);
    const obs = createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false } });
    const server = await serve(obs);
    try {
      assert.equal(obs.tracing.usesGlobalProvider, true);
      for (const p of ROUTER_PATHS) assert.equal((await request(server.url, p)).status, 200, p);
      assert.equal((await request(server.url, '/users/8')).status, 200);
      const deadline = Date.now() + 5000;
      while (ended.length < started.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(started.size, ROUTER_PATHS.length + 1, 'one span per request');
      assert.equal(ended.length, started.size, `${started.size - ended.length} spans were started and never ended`);
    } finally {
      await server.close();
      await obs.shutdown();
      trace.disable();
      await appProvider.shutdown();
    }
  });
});
