import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { createObservability, type ObservabilityOptions } from '../lib';
import { startElasticsearchStandIn } from './support/elasticsearch-standin';
import { listen, request, waitFor } from './support/http';
import { startOtlpReceiver } from './support/otlp-receiver';
import { freePort } from './support/prometheus';

type Entry = { status: string; observedValue?: unknown; output?: string };

async function startApp(options: ObservabilityOptions) {
  const obs = createObservability({
    metrics: { defaultMetrics: false },
    system: { enabled: false },
    alerts: { enabled: false },
    dashboard: { enabled: false },
    health: { cacheTtlMs: 1 },
    ...options,
  });
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  app.get('/work/:id', (req, res) => {
    obs.logger.info('working', { id: req.params.id });
    res.json({ ok: true });
  });
  const srv = await listen(app);
  const check = async (name: string): Promise<{ code: number; overall: string; entry: Entry | undefined }> => {
    const r = await request(srv.url, '/health');
    const body = JSON.parse(r.body) as { status: string; checks?: Record<string, Entry[]> };
    return { code: r.status, overall: body.status, entry: body.checks?.[name]?.[0] };
  };
  return { obs, srv, check };
}

describe('health checks of the log shippers and the span exporter', () => {
  it('log-shipping:otlp warns while the collector is unreachable and records are dropped, passes when it receives them', async () => {
    const receiver = await startOtlpReceiver();
    const dead = await startApp({
      tracing: { enabled: false },
      logging: { stdout: false, accessLog: false, otlp: { endpoint: `http://127.0.0.1:${await freePort()}/v1/logs`, scheduledDelayMillis: 10, exportTimeoutMillis: 200, maxQueueSize: 20, maxExportBatchSize: 5 } },
    });
    const live = await startApp({ tracing: { enabled: false }, logging: { stdout: false, accessLog: false, otlp: { endpoint: receiver.logsUrl, scheduledDelayMillis: 10 } } });
    try {
      assert.equal((await dead.check('log-shipping:otlp')).entry?.status, 'pass', 'nothing queued yet');
      for (let i = 0; i < 100; i++) await request(dead.srv.url, `/work/${i}`);
      const bad = await waitFor(async () => {
        const c = await dead.check('log-shipping:otlp');
        return c.entry?.status === 'warn' ? c : undefined;
      }, 10_000, 50, 'OTLP backlog warning');
      assert.equal(bad.code, 200, 'a collector outage never fails the service');
      assert.match(bad.entry?.output ?? '', /lines queued .* dropped since the previous check/);
      for (let i = 0; i < 20; i++) await request(live.srv.url, `/work/${i}`);
      await receiver.waitForLogs((l) => l.length >= 20);
      const ok = await live.check('log-shipping:otlp');
      assert.equal(ok.entry?.status, 'pass');
    } finally {
      await dead.srv.close();
      await live.srv.close();
      await dead.obs.shutdown();
      await live.obs.shutdown();
      await receiver.close();
    }
  });

  it('log-shipping:elasticsearch warns while the backend is unreachable and lines are dropped, passes once it ships', async () => {
    const closed = await freePort();
    const es = await startElasticsearchStandIn();
    const dead = await startApp({
      tracing: { enabled: false },
      logging: { stdout: false, accessLog: false, elasticsearch: { url: `http://127.0.0.1:${closed}`, flushIntervalMs: 20, retryInitialMs: 20, retryMaxMs: 50, maxQueueBytes: 2048 } },
    });
    const live = await startApp({
      tracing: { enabled: false },
      logging: { stdout: false, accessLog: false, elasticsearch: { url: es.url, flushIntervalMs: 20 } },
    });
    try {
      assert.equal((await dead.check('log-shipping:elasticsearch')).entry?.status, 'pass', 'nothing queued yet');
      for (let i = 0; i < 100; i++) await request(dead.srv.url, `/work/${i}`);
      const bad = await waitFor(async () => {
        const c = await dead.check('log-shipping:elasticsearch');
        return c.entry?.status === 'warn' ? c : undefined;
      }, 10_000, 50, 'backlog warning');
      assert.equal(bad.code, 200, 'a log backend outage never fails the service');
      assert.equal(bad.overall, 'warn');
      assert.ok(typeof bad.entry?.observedValue === 'number');
      assert.match(bad.entry?.output ?? '', /lines queued .* dropped since the previous check/);

      for (let i = 0; i < 20; i++) await request(live.srv.url, `/work/${i}`);
      await waitFor(() => es.documents().length >= 20, 10_000, 50, 'lines at the stand-in');
      const ok = await live.check('log-shipping:elasticsearch');
      assert.equal(ok.entry?.status, 'pass');
      assert.equal(ok.entry?.observedValue, 0);
    } finally {
      await dead.srv.close();
      await live.srv.close();
      await dead.obs.shutdown();
      await live.obs.shutdown();
      await es.stop();
    }
  });

  it('tracing:exporter warns when spans are dropped, passes while the collector takes them', async () => {
    const closed = await freePort();
    const receiver = await startOtlpReceiver();
    const tracingDead = { endpoint: `http://127.0.0.1:${closed}/v1/traces`, scheduledDelayMillis: 20, exportTimeoutMillis: 200 };
    const dead = await startApp({ logging: { enabled: false }, tracing: tracingDead });
    const live = await startApp({ logging: { enabled: false }, tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20 } });
    try {
      await dead.check('tracing:exporter');
      for (let i = 0; i < 20; i++) await request(dead.srv.url, `/work/${i}`);
      const bad = await waitFor(async () => {
        const c = await dead.check('tracing:exporter');
        return c.entry?.status === 'warn' ? c : undefined;
      }, 15_000, 100, 'exporter warning');
      assert.equal(bad.code, 200);
      assert.ok(Number(bad.entry?.observedValue) > 0);

      for (let i = 0; i < 5; i++) await request(live.srv.url, `/work/${i}`);
      await receiver.waitForSpans((spans) => spans.length >= 5);
      const ok = await live.check('tracing:exporter');
      assert.equal(ok.entry?.status, 'pass');
      assert.match(ok.entry?.output ?? '', /spans exported and 0 dropped/);
    } finally {
      await dead.srv.close();
      await live.srv.close();
      await dead.obs.shutdown();
      await live.obs.shutdown();
      await receiver.close();
    }
  });
});
