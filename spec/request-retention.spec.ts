import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import express from 'express';
import { createObservability } from '../lib';
import { samples } from './support/exposition';
import { listen, request, waitFor } from './support/http';
import { exposeGc } from './support/v8';

/** An app observed with no exporter and an empty ring: once a request finished, nothing of the package should need its span. */
function observedApp(): { obs: ReturnType<typeof createObservability>; app: express.Express } {
  const obs = createObservability({
    metrics: { defaultMetrics: false },
    tracing: { ringBufferSize: 0 },
    logging: { enabled: false },
    system: { enabled: false },
    alerts: { enabled: false },
    dashboard: { enabled: false },
  });
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  return { obs, app };
}

/** Resolves once `n` requests of `/users/:id` are recorded (the middleware's completion ran for each). */
async function recorded(url: string, n: number): Promise<void> {
  await waitFor(async () => {
    const text = (await request(url, '/metrics')).body;
    const count = samples(text, 'http_server_request_duration_seconds_count', { route: '/users/:id' });
    return count.length === 1 && count[0]?.value === n;
  }, 5000, 20, `${n} requests recorded`);
}

/** Collect garbage from later macrotasks: WeakRef targets stay alive until the current job ends. */
async function collect(gc: () => void): Promise<void> {
  for (let round = 0; round < 2; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

describe('what a finished request keeps alive', () => {
  it('a request the application still references no longer holds its span once it finished', async () => {
    const gc = exposeGc();
    const { obs, app } = observedApp();
    // The application keeps every request object (a cache, a long-poll registry, a closure, ...).
    const held: express.Request[] = [];
    const spans: WeakRef<object>[] = [];
    app.get('/users/:id', (req, res) => {
      const span = trace.getActiveSpan();
      assert.ok(span, 'a span is active in the handler');
      held.push(req);
      spans.push(new WeakRef(span));
      res.json({ id: req.params.id });
    });
    const server = await listen(app);
    const n = 20;
    try {
      for (let i = 0; i < n; i++) assert.equal((await request(server.url, `/users/${i}`)).status, 200);
      await recorded(server.url, n);
    } finally {
      await server.close();
      await obs.shutdown();
    }
    // Node's HTTP server caches its Date header for up to a second behind a timer created during a
    // request, and that timer holds the request's async context: the context no longer holds the ended span.
    await collect(gc);
    assert.equal(held.length, n, 'the requests are still referenced');
    assert.equal(spans.length, n);
    const alive = spans.filter((w) => w.deref() !== undefined).length;
    assert.equal(alive, 0, `${alive} of ${n} finished spans are still reachable through their requests`);
  });

  it('an open keep-alive connection does not keep its last request\'s span; work the request left behind still has its ids', async () => {
    const gc = exposeGc();
    const { obs, app } = observedApp();
    const spans: WeakRef<object>[] = [];
    const ids: string[] = [];
    // What runs after the response, in the request's context (a timer the handler set), sees the same trace and span ids.
    const later: Promise<string | undefined>[] = [];
    app.get('/users/:id', (req, res) => {
      const span = trace.getActiveSpan();
      assert.ok(span, 'a span is active in the handler');
      spans.push(new WeakRef(span));
      const { traceId, spanId } = span.spanContext();
      ids.push(`${traceId}-${spanId}`);
      later.push(
        new Promise((resolve) =>
          setTimeout(() => {
            const sc = trace.getActiveSpan()?.spanContext();
            resolve(sc && `${sc.traceId}-${sc.spanId}`);
          }, 50),
        ),
      );
      res.json({ id: req.params.id });
    });
    const server = await listen(app);
    // Node keeps the async context of the request that armed a keep-alive socket's idle timer (and
    // the Date header cache's timer) for as long as that timer lives: up to keepAliveTimeout, 5 s.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const n = 8;
    try {
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => request(server.url, `/users/${i}`, { agent })));
      assert.deepEqual(answers.map((a) => a.status), Array(n).fill(200));
      await recorded(server.url, n);
      assert.deepEqual(await Promise.all(later), ids, 'callbacks the requests left behind still see their spans\' ids');
      assert.ok(Object.values(agent.freeSockets).flat().length > 0, 'the keep-alive connections are still open');
      await collect(gc);
      const alive = spans.filter((w) => w.deref() !== undefined).length;
      assert.equal(alive, 0, `${alive} of ${n} finished spans are still reachable while their connections are open`);
    } finally {
      agent.destroy();
      await server.close();
      await obs.shutdown();
    }
  });
});
