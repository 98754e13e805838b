import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { context, createContextKey, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createObservability, type Observability } from '../lib';
import { listen, request, type Listening } from './support/http';

// The OpenTelemetry globals an instance registers are released by shutdown(): the context manager
// when the last instance using it shuts down, the provider and propagator of `tracing.registerGlobal`
// with their instance. What the application registered itself is never touched. (Each spec file runs
// in its own process, so these globals start empty.)

const PROBE = ROOT_CONTEXT.setValue(createContextKey('spec probe'), 'probe');

/** True when a context manager is registered: `context.with` then enters the context it is given. */
const managerRegistered = (): boolean => context.with(PROBE, () => context.active() === PROBE);

interface Served {
  obs: Observability;
  srv: Listening;
}

/** An instance on a real server whose route runs a child span across an await and reports what it saw. */
async function serve(name: string, tracing: Record<string, unknown> = {}): Promise<Served> {
  const obs = createObservability({
    serviceName: name,
    metrics: { defaultMetrics: false },
    system: { enabled: false },
    logging: { stdout: false },
    tracing: { ringBufferSize: 10, ...tracing },
  });
  const app = express();
  app.use(obs.middleware);
  app.get('/work', (req, res, next) => {
    const server = trace.getActiveSpan();
    obs.tracing
      .withSpan('child', async (child) => {
        await new Promise((r) => setTimeout(r, 5));
        return { childSpanId: child.spanContext().spanId, activeIsChild: trace.getActiveSpan() === child, headers: obs.tracing.inject<Record<string, string>>({}) };
      })
      .then((seen) => res.json({ serverSpanId: server?.spanContext().spanId ?? null, ...seen }), next);
  });
  return { obs, srv: await listen(app) };
}

/** GET /work: the child span stayed active across its await and was propagated with its own id. */
async function assertContextFlows(s: Served, what: string): Promise<void> {
  const r = await request(s.srv.url, '/work');
  assert.equal(r.status, 200, r.body);
  const got = JSON.parse(r.body) as { serverSpanId: string | null; childSpanId: string; activeIsChild: boolean; headers: Record<string, string> };
  assert.match(String(got.serverSpanId), /^[0-9a-f]{16}$/, `${what}: the request has its SERVER span`);
  assert.equal(got.activeIsChild, true, `${what}: the child span is still active after its await`);
  assert.match(got.headers.traceparent ?? '', new RegExp(`^00-[0-9a-f]{32}-${got.childSpanId}-01$`), `${what}: the child's traceparent`);
  const spans = s.obs.tracing.getTrace(got.headers.traceparent.split('-')[1]);
  const child = spans?.find((x) => x.name === 'child');
  assert.equal(child?.parentSpanId, got.serverSpanId, `${what}: the child's parent is the SERVER span`);
}

async function stop(s: Served): Promise<void> {
  await s.srv.close();
  await s.obs.shutdown();
}

describe('OpenTelemetry globals and shutdown()', () => {
  it('instances share one context manager; it stays while one of them runs and is unregistered when the last shuts down', async () => {
    assert.equal(managerRegistered(), false, 'no context manager before the first instance');
    const a = await serve('globals-a');
    const b = await serve('globals-b');
    await assertContextFlows(a, 'A with B running');
    await assertContextFlows(b, 'B with A running');

    await stop(a);
    assert.equal(managerRegistered(), true, 'B still uses the shared context manager');
    await assertContextFlows(b, 'B after A shut down');

    await stop(b);
    assert.equal(managerRegistered(), false, 'the last instance out unregisters the context manager');

    const c = await serve('globals-c');
    assert.equal(managerRegistered(), true, 'a later instance registers one again');
    await assertContextFlows(c, 'C after A and B shut down');
    await c.obs.shutdown();
    await c.obs.shutdown();
    assert.equal(managerRegistered(), false, 'shutting down twice releases once');
    await c.srv.close();
  });

  it('a context manager the application registered first is used and left registered', async () => {
    const own = new AsyncLocalStorageContextManager().enable();
    assert.equal(context.setGlobalContextManager(own), true);
    try {
      const d = await serve('globals-d');
      await assertContextFlows(d, 'with the application’s context manager');
      await stop(d);
      assert.equal(
        context.with(PROBE, () => own.active() === PROBE),
        true,
        'the application’s context manager is still the one context.with enters',
      );
    } finally {
      context.disable();
    }
    assert.equal(managerRegistered(), false);
  });

  it('tracing.registerGlobal: the global provider and propagator are the instance’s until it shuts down', async () => {
    const e = await serve('globals-e', { registerGlobal: true });
    assert.equal(trace.getTracer('app').startSpan('probe').isRecording(), true, 'the global tracer records spans');
    assert.ok(propagation.fields().includes('traceparent'), 'the global propagator writes traceparent');
    await assertContextFlows(e, 'with registerGlobal');
    await stop(e);
    assert.equal(trace.getTracer('app').startSpan('probe').isRecording(), false, 'no global provider after shutdown');
    assert.deepEqual(propagation.fields(), [], 'no global propagator after shutdown');
    assert.equal(managerRegistered(), false);
  });

  it('tracing.registerGlobal leaves a provider the application registered first alone', async () => {
    const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
    const appProvider = new BasicTracerProvider();
    assert.equal(trace.setGlobalTracerProvider(appProvider), true);
    try {
      const f = await serve('globals-f', { registerGlobal: true });
      await stop(f);
      assert.equal(trace.getTracer('app').startSpan('probe').isRecording(), true, 'the application’s provider is still global');
    } finally {
      trace.disable();
      propagation.disable();
      await appProvider.shutdown();
    }
  });
});
