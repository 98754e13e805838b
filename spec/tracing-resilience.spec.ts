import assert from 'node:assert/strict';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { samples } from './support/exposition';
import { listen, pool, request, type Listening } from './support/http';
import { freePort } from './support/prometheus';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverMode } from './support/otlp-receiver';
import { startLoopbackServer } from './support/loopback-server';
import { exposeGc } from './support/v8';

const gc = exposeGc();

interface App {
  readonly obs: Observability;
  readonly server: Listening;
  stop(): Promise<void>;
}

async function startApp(endpoint: string, extra: { scheduledDelayMillis?: number; shutdownTimeoutMillis?: number } = {}): Promise<App> {
  const obs = createObservability({
    metrics: { defaultMetrics: false },
    tracing: {
      endpoint,
      scheduledDelayMillis: extra.scheduledDelayMillis ?? 10,
      exportTimeoutMillis: 300,
      maxQueueSize: 200,
      maxExportBatchSize: 50,
      shutdownTimeoutMillis: extra.shutdownTimeoutMillis ?? 500,
    },
  });
  const app = express();
  app.use(obs.middleware);
  app.get('/users/:id', (req, res) => {
    obs.tracing.withSpan('lookup', () => obs.tracing.setAttribute('user.id', req.params.id));
    res.json({ id: req.params.id });
  });
  const server = await listen(app);
  return {
    obs,
    server,
    async stop() {
      await server.close();
      await obs.shutdown();
    },
  };
}

/** Wall time of `n` requests at `concurrency` over keep-alive connections, ms. */
async function load(url: string, n: number, concurrency = 16): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const t0 = performance.now();
  await pool(Array.from({ length: n }, (_, i) => i), concurrency, async (i) => {
    const res = await request(url, `/users/${i}`, { agent });
    assert.equal(res.status, 200);
  });
  const ms = performance.now() - t0;
  agent.destroy();
  return ms;
}

async function counter(obs: Observability, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await obs.registry.metrics();
  return samples(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const N = 600;

describe('tracing: a dead, failing or hanging collector never slows or breaks requests', () => {
  let receiver: OtlpReceiver;
  let baseline = Infinity;
  before(async () => {
    receiver = await startOtlpReceiver('ok');
    const app = await startApp(receiver.tracesUrl);
    try {
      await load(app.server.url, 200); // warm-up
      for (let i = 0; i < 2; i++) baseline = Math.min(baseline, await load(app.server.url, N));
      await app.obs.tracing.forceFlush();
      assert.ok((await counter(app.obs, 'observability_spans_exported_total')) > 0, 'the healthy collector received spans');
      assert.equal(await counter(app.obs, 'observability_spans_dropped_total'), 0);
    } finally {
      await app.stop();
    }
  });
  after(async () => {
    await receiver.close();
  });

  const scenarios: Array<{ name: string; mode: ReceiverMode | 'down' }> = [
    { name: 'collector down (connection refused)', mode: 'down' },
    { name: 'collector answering 503', mode: 'unavailable' },
    { name: 'collector hanging', mode: 'hang' },
  ];
  for (const { name, mode } of scenarios) {
    it(`${name}: every request answered while exports fail, memory and queue bounded, losses counted`, async (t) => {
      let endpoint = receiver.tracesUrl;
      if (mode === 'down') endpoint = `http://127.0.0.1:${await freePort()}/v1/traces`;
      else receiver.mode = mode;
      const app = await startApp(endpoint);
      const exportsBefore = receiver.requests.length;
      try {
        await load(app.server.url, 200);
        let worst = Infinity;
        for (let i = 0; i < 2; i++) worst = Math.min(worst, await load(app.server.url, N));
        const ratio = worst / baseline;
        // Wall time is reported, not asserted (it depends on the machine's load); the cost of a dead
        // collector is measured by `npm run bench` (its "Dead backends" table).
        t.diagnostic(`latency ratio vs healthy collector: ${ratio.toFixed(2)} (${worst.toFixed(0)} ms / ${baseline.toFixed(0)} ms for ${N} requests)`);
        // Every request above was answered 200 (load() asserts it) while the exporter was failing:
        if (mode !== 'down') assert.ok(receiver.requests.length > exportsBefore, 'exports were attempted (and failed or hung) during the load');

        gc();
        const before = process.memoryUsage().heapUsed;
        await load(app.server.url, 3000, 32);
        gc();
        const grown = process.memoryUsage().heapUsed - before;
        t.diagnostic(`heap growth over 3,000 requests: ${(grown / 1048576).toFixed(1)} MiB`);
        assert.ok(grown < 40 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB over 3,000 requests`);

        await new Promise((r) => setTimeout(r, 700)); // let the last export attempt time out
        const dropped = await counter(app.obs, 'observability_spans_dropped_total');
        assert.ok(dropped > 0, 'lost spans are counted');
        if (mode === 'hang') assert.ok((await counter(app.obs, 'observability_spans_dropped_total', { reason: 'queue_full' })) > 0, 'the export queue is bounded');
        assert.equal(await counter(app.obs, 'observability_spans_exported_total'), 0);
        assert.ok(app.obs.tracing.recentTraces({ limit: 5000 }).length <= 1000, 'the in-memory ring is bounded');
      } finally {
        const stopped = app.stop().then(() => 'stopped');
        const deadline = new Promise((r) => setTimeout(r, 10_000).unref()).then(() => 'timed out');
        assert.equal(await Promise.race([stopped, deadline]), 'stopped', 'shutdown() returns despite the collector');
        receiver.mode = 'ok';
      }
    });
  }

  it('shutdown() flushes the spans still queued', async () => {
    const fresh = await startOtlpReceiver('ok');
    const app = await startApp(fresh.tracesUrl, { scheduledDelayMillis: 60_000, shutdownTimeoutMillis: 5000 });
    try {
      for (let i = 0; i < 5; i++) await request(app.server.url, `/users/${i}`);
      assert.equal(fresh.spans.length, 0, 'nothing exported before the scheduled delay');
    } finally {
      await app.stop();
    }
    assert.equal(fresh.spans.length, 10, 'five SERVER spans and five children flushed at shutdown');
    await fresh.close();
  });

  it('shutdown() against a collector that rejects the export: its spans are in the report as undelivered, and the step as failed', async () => {
    // 400: not retryable, so the flush fails at once instead of retrying until the timeout.
    const collector = await startLoopbackServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400).end());
    });
    const obs = createObservability({
      serviceName: 'rejected',
      metrics: { defaultMetrics: false },
      logging: { enabled: false },
      system: { enabled: false },
      tracing: { endpoint: `${collector.url}/v1/traces`, scheduledDelayMillis: 60_000, shutdownTimeoutMillis: 5000 },
    });
    try {
      for (let i = 0; i < 3; i++) obs.tracing.withSpan(`work ${i}`, () => undefined);
      const report = await obs.shutdown();
      assert.deepEqual(report.undelivered, [{ destination: 'otlp', unit: 'spans', count: 3 }]);
      assert.deepEqual(report.failedSteps, ['tracing']);
      assert.equal(report.failed, true);
    } finally {
      await collector.stop();
    }
  });
});
