import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import express from 'express';
import { activeSpanIds, createObservability, type Observability } from '../lib';
import { listen, request, type Listening } from './support/http';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('obs.tracing read API (no endpoint: nothing leaves the process, spans kept in memory)', () => {
  let obs: Observability;
  let server: Listening;
  const seenInHandler: Array<{ api: unknown; helper: unknown; header: string | undefined }> = [];
  before(async () => {
    obs = createObservability({ metrics: { defaultMetrics: false }, tracing: { ringBufferSize: 50 } });
    const app = express();
    app.use(obs.middleware);
    app.get('/users/:id', (req, res) => {
      const sc = trace.getSpanContext(context.active());
      seenInHandler.push({ api: sc && { traceId: sc.traceId, spanId: sc.spanId }, helper: activeSpanIds(), header: obs.tracing.inject({}).traceparent });
      res.json({ id: req.params.id });
    });
    app.get('/slow', async (_req, res) => {
      await obs.tracing.withSpan('nap', () => sleep(60));
      res.json({ slept: true });
    });
    app.get('/teapot', (_req, res) => {
      res.status(418).end();
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.use(obs.errorHandler);
    app.use((_e: unknown, _q: express.Request, res: express.Response, _n: express.NextFunction) => {
      res.status(500).end();
    });
    server = await listen(app);
  });
  after(async () => {
    await server.close();
    await obs.shutdown();
  });

  it('has no exporter without an endpoint', () => {
    assert.equal(obs.tracing.endpoint, undefined);
    assert.equal(obs.tracing.enabled, true);
  });

  it('inside a handler the global OpenTelemetry context holds the request span (what log correlation reads)', async () => {
    const tp = '00-1234567890abcdef1234567890abcdef-1234567890abcdef-01';
    await request(server.url, '/users/5', { headers: { traceparent: tp } });
    const seen = seenInHandler.at(-1);
    const traced = obs.tracing.getTrace('1234567890abcdef1234567890abcdef');
    const serverSpan = traced?.find((s) => s.kind === 'server');
    assert.ok(serverSpan);
    assert.deepEqual(seen?.api, { traceId: serverSpan.traceId, spanId: serverSpan.spanId });
    assert.deepEqual(seen?.helper, { traceId: serverSpan.traceId, spanId: serverSpan.spanId, traceFlags: 1 }, 'activeSpanIds() also gives the sampled flag');
    assert.equal(seen?.header, `00-${serverSpan.traceId}-${serverSpan.spanId}-01`);
    assert.equal(activeSpanIds(), undefined, 'outside a request there is no active span');
  });

  it('recentTraces() filters by route, status, duration and limit; getTrace() returns plain JSON spans', async () => {
    await request(server.url, '/slow');
    await request(server.url, '/teapot');
    await request(server.url, '/boom');
    for (let i = 0; i < 3; i++) await request(server.url, `/users/${i}`);

    const all = obs.tracing.recentTraces();
    assert.ok(all.length >= 6);
    assert.equal(all[0]?.route, '/users/:id', 'newest first');
    assert.deepEqual(obs.tracing.recentTraces({ limit: 2 }).map((t) => t.traceId), all.slice(0, 2).map((t) => t.traceId));
    assert.ok(obs.tracing.recentTraces({ route: '/users/:id' }).every((t) => t.name === 'GET /users/:id'));
    assert.deepEqual(obs.tracing.recentTraces({ status: 418 }).map((t) => t.name), ['GET /teapot']);
    assert.deepEqual(obs.tracing.recentTraces({ status: '4xx' }).map((t) => t.statusCode), [418]);
    assert.deepEqual(obs.tracing.recentTraces({ status: 'error' }).map((t) => t.name), ['GET /boom']);
    const slow = obs.tracing.recentTraces({ minDurationMs: 50 });
    assert.deepEqual(slow.map((t) => t.name), ['GET /slow']);
    assert.equal(slow[0]?.spanCount, 2);

    const spans = obs.tracing.getTrace(slow[0]?.traceId ?? '');
    assert.ok(spans);
    const copy = JSON.parse(JSON.stringify(spans)) as typeof spans;
    assert.deepEqual(copy, spans, 'spans are plain JSON-able data');
    const [root, nap] = spans;
    assert.equal(root?.name, 'GET /slow');
    assert.equal(root?.kind, 'server');
    assert.equal(root?.parentSpanId, undefined);
    assert.equal(root?.attributes['http.response.status_code'], 200);
    assert.equal(nap?.name, 'nap');
    assert.equal(nap?.parentSpanId, root?.spanId);
    assert.ok((nap?.duration ?? 0) >= 50 && (root?.endTime ?? 0) >= (root?.startTime ?? Infinity));
    const boom = obs.tracing.getTrace(obs.tracing.recentTraces({ status: 'error' })[0]?.traceId ?? '');
    assert.equal(boom?.[0]?.status.code, 'error');
    assert.equal(boom?.[0]?.events[0]?.attributes['exception.message'], 'boom');
    assert.equal(obs.tracing.getTrace('f'.repeat(32)), undefined);
  });

  it('the ring buffer is bounded by tracing.ringBufferSize', async () => {
    for (let i = 0; i < 80; i++) await request(server.url, `/users/${i}`);
    const traces = obs.tracing.recentTraces({ limit: 1000 });
    assert.equal(traces.length, 50);
  });
});

describe('tracing.ringBufferSize default: spans are kept in memory only when something reads them', () => {
  async function kept(options: Parameters<typeof createObservability>[0]): Promise<number> {
    const obs = createObservability({ metrics: { defaultMetrics: false }, ...options });
    const app = express();
    app.use(obs.middleware);
    app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
    const server = await listen(app);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await request(server.url, `/users/${i}`)).status, 200);
      return obs.tracing.recentTraces({ limit: 100 }).length;
    } finally {
      await server.close();
      await obs.shutdown();
    }
  }

  it('keeps spans for the trace viewer while the dashboard is enabled (the default)', async () => {
    assert.equal(await kept({}), 5);
  });

  it('keeps none with the dashboard disabled, unless a size is given', async () => {
    assert.equal(await kept({ dashboard: { enabled: false } }), 0);
    assert.equal(await kept({ dashboard: { enabled: false }, tracing: { ringBufferSize: 3 } }), 3);
  });
});

describe('obs.tracing.withSpan settles its span as `await` settles the value', () => {
  it('a thenable whose then() returns nothing, rejects, or throws: the value or error comes back, the span ends', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false }, logging: { stdout: false }, system: { enabled: false }, tracing: { ringBufferSize: 50 } });
    try {
      const run = (name: string, value: unknown): Promise<unknown> => Promise.resolve(obs.tracing.withSpan(name, () => value));
      // `then` that calls back and returns nothing (no promise): await gives 42.
      const resolves = { then: (ok: (v: number) => void) => void ok(42) };
      assert.equal(await run('resolves', resolves), 42);
      // `then` that rejects through its callback: withSpan rejects with the error (no uncaught exception).
      const rejects = { then: (_ok: unknown, fail: (e: Error) => void) => void fail(new Error('thenable failed')) };
      await assert.rejects(run('rejects', rejects), /thenable failed/);
      // `then` that throws: the same.
      const throws = {
        then: () => {
          throw new Error('then threw');
        },
      };
      await assert.rejects(run('throws', throws), /then threw/);
      await obs.tracing.forceFlush();
      const names = obs.tracing.recentTraces({ limit: 10 }).map((t) => t.name).sort();
      assert.deepEqual(names, ['rejects', 'resolves', 'throws'], 'every span ended and reached the ring');
      const failed = obs.tracing.recentTraces({ status: 'error', limit: 10 }).map((t) => t.name).sort();
      assert.deepEqual(failed, ['rejects', 'throws']);
      // A promise keeps its class.
      class TaggedPromise<T> extends Promise<T> {}
      const tagged = obs.tracing.withSpan('tagged', () => TaggedPromise.resolve(7));
      assert.ok(tagged instanceof TaggedPromise);
      assert.equal(await tagged, 7);
    } finally {
      await obs.shutdown();
    }
  });
});
