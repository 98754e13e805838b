import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { samples } from './support/exposition';
import { listen, pool, request, type Listening } from './support/http';
import { freePort } from './support/prometheus';
import { OTLP_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedLogRecord } from './support/otlp-receiver';
import { PACKAGE_VERSION } from '../lib/version';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';

interface Running {
  readonly obs: Observability;
  readonly server: Listening;
  stop(): Promise<void>;
}

async function startApp(options: ObservabilityOptions): Promise<Running> {
  const obs = createObservability({ serviceName: 'orders-svc', serviceVersion: '2.3.4', metrics: { defaultMetrics: false }, ...options });
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  app.get('/users/:id', (req, res) => {
    req.log.info('user looked up', { userId: req.params.id, nested: { plan: 'gold', seats: 3 } });
    res.json({ id: req.params.id });
  });
  app.get('/error', () => {
    throw new TypeError('kaboom in handler');
  });
  app.use(obs.errorHandler);
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'internal' });
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

function one(logs: readonly ReceivedLogRecord[], pred: (l: ReceivedLogRecord) => boolean, what: string): ReceivedLogRecord {
  const found = logs.filter(pred);
  assert.equal(found.length, 1, `exactly one ${what}, got ${found.length}`);
  return found[0] as ReceivedLogRecord;
}

async function metric(app: Running, name: string, labels: Record<string, string>): Promise<number> {
  const res = await request(app.server.url, '/metrics');
  return samples(res.body, name, labels).reduce((sum, s) => sum + s.value, 0);
}

for (const protocol of ['http/protobuf', 'http/json'] as const) describe(`logging.otlp: every line as an OTLP log record (${protocol})`, () => {
  let receiver: OtlpReceiver;
  let app: Running;
  before(async () => {
    receiver = await startOtlpReceiver();
    app = await startApp({
      tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20, protocol },
      logging: { stdout: false, otlp: { endpoint: receiver.logsUrl, protocol, scheduledDelayMillis: 20, headers: { 'x-tenant': 'acme' } } },
    });
  });
  after(async () => {
    await app.stop();
    await receiver.close();
    assert.deepEqual(receiver.errors, []);
    const types = new Set(receiver.logRequests.map((h) => String(h['content-type'])));
    assert.deepEqual([...types], [protocol === 'http/json' ? 'application/json' : 'application/x-protobuf'], 'every log export in the chosen encoding');
  });

  it("a request's log records (req.log and access line) carry its span's trace id, span id and sampled flag; resource and scope as the span's", async () => {
    const res = await request(app.server.url, '/users/42?token=s3cr3t&page=2', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, 'user-agent': 'spec/1.0' } });
    assert.equal(res.status, 200);
    const spans = await receiver.waitForSpans((s) => s.some((x) => x.traceId === TRACE_ID));
    const span = spans.find((x) => x.traceId === TRACE_ID && x.kind === OTLP_KIND.SERVER);
    assert.ok(span);
    const logs = await receiver.waitForLogs((l) => l.filter((x) => x.traceId === TRACE_ID).length >= 2);
    const mine = logs.filter((l) => l.traceId === TRACE_ID);
    const looked = one(mine, (l) => l.body === 'user looked up', 'req.log record');
    const access = one(mine, (l) => l.attributes.type === 'access', 'access record');
    for (const rec of [looked, access]) {
      assert.equal(rec.spanId, span.spanId, 'the span id of the request span');
      assert.equal(rec.flags & 1, 1, 'sampled flag');
      assert.deepEqual(rec.resource, span.resource, 'the resource of the traces');
      assert.equal(rec.scope.name, 'express-observability');
      assert.equal(rec.scope.version, PACKAGE_VERSION);
      assert.ok(rec.timeUnixNano > 0n && rec.observedTimeUnixNano > 0n);
    }
    assert.equal(looked.severityNumber, 9);
    assert.equal(looked.severityText, 'info');
    assert.equal(looked.attributes.userId, '42');
    assert.deepEqual(looked.attributes.nested, { plan: 'gold', seats: 3 }, 'structured fields stay structured');
    assert.equal(looked.attributes.service, undefined, 'service is the resource, not an attribute');
    assert.equal(access.body, 'GET /users/42?token=[REDACTED]&page=2 200');
    const a = access.attributes;
    assert.equal(a['http.request.method'], 'GET');
    assert.equal(a['http.route'], '/users/:id');
    assert.equal(a['url.path'], '/users/42');
    assert.equal(a['url.query'], 'token=[REDACTED]&page=2');
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['client.address'], '127.0.0.1');
    assert.equal(a['user_agent.original'], 'spec/1.0');
    assert.equal(typeof a.duration_ms, 'number');
    assert.ok(!JSON.stringify(mine, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes('s3cr3t'), 'the secret never leaves the process');
    assert.ok(receiver.logRequests.every((h) => h['x-tenant'] === 'acme'), 'logging.otlp.headers sent');
  });

  it("an unsampled request's records (req.log and access line) carry its trace and span ids with flags 0", async () => {
    const traceId = 'd'.repeat(32);
    assert.equal((await request(app.server.url, '/users/7', { headers: { traceparent: `00-${traceId}-${PARENT_ID}-00` } })).status, 200);
    const logs = await receiver.waitForLogs((l) => l.filter((x) => x.traceId === traceId).length >= 2);
    const mine = logs.filter((l) => l.traceId === traceId);
    const looked = one(mine, (l) => l.body === 'user looked up', 'req.log record');
    const access = one(mine, (l) => l.attributes.type === 'access', 'access record');
    assert.equal(access.spanId, looked.spanId, 'the same span id: the request span');
    assert.match(access.spanId ?? '', /^[0-9a-f]{16}$/);
    for (const rec of [looked, access]) assert.equal(rec.flags & 1, 0, 'not sampled');
  });

  it('an error access line is severity ERROR with exception.* attributes; a line outside any request has no trace context', async () => {
    const traceId = 'e'.repeat(32);
    assert.equal((await request(app.server.url, '/error', { headers: { traceparent: `00-${traceId}-${PARENT_ID}-01` } })).status, 500);
    app.obs.logger.warn('background job slow', { job: 'reindex', ms: 1234 });
    const logs = await receiver.waitForLogs((l) => l.some((x) => x.traceId === traceId) && l.some((x) => x.body === 'background job slow'));
    const failed = one(logs, (l) => l.traceId === traceId && l.attributes.type === 'access', 'error access record');
    assert.equal(failed.severityNumber, 17);
    assert.equal(failed.severityText, 'error');
    assert.equal(failed.attributes['http.response.status_code'], 500);
    assert.equal(failed.attributes['exception.type'], 'TypeError');
    assert.equal(failed.attributes['exception.message'], 'kaboom in handler');
    assert.match(String(failed.attributes['exception.stacktrace']), /TypeError: kaboom in handler\n\s+at /);
    const bg = one(logs, (l) => l.body === 'background job slow', 'background record');
    assert.equal(bg.severityNumber, 13);
    assert.equal(bg.traceId, undefined);
    assert.equal(bg.spanId, undefined);
    assert.equal(bg.flags, 0);
    assert.equal(bg.attributes.ms, 1234);
  });

  it('shipped records are counted on /metrics with transport="otlp"', async () => {
    app.obs.logger.info('count me');
    await receiver.waitForLogs((l) => l.some((x) => x.body === 'count me'));
    assert.ok((await metric(app, 'observability_log_lines_shipped_total', { transport: 'otlp' })) >= 3);
    assert.equal(await metric(app, 'observability_log_lines_dropped_total', { transport: 'otlp' }), 0);
  });
});

describe('logging.otlp: a dead or hanging collector costs requests nothing; losses are counted; shutdown flushes', () => {
  const scenarios = [
    { name: 'collector down (connection refused)', mode: 'down', reason: 'export_failed' },
    { name: 'collector hanging', mode: 'hang', reason: 'queue_full' },
  ] as const;
  for (const { name, mode, reason } of scenarios) {
    it(`${name}: 300 requests all answered, lost records counted (reason="${reason}"), shutdown() returns`, async () => {
      const receiver = await startOtlpReceiver(mode === 'hang' ? 'hang' : 'ok');
      const endpoint = mode === 'down' ? `http://127.0.0.1:${await freePort()}/v1/logs` : receiver.logsUrl;
      const app = await startApp({
        logging: { stdout: false, shutdownTimeoutMs: 500, otlp: { endpoint, scheduledDelayMillis: 10, exportTimeoutMillis: 200, maxQueueSize: 50, maxExportBatchSize: 10 } },
      });
      try {
        const statuses: number[] = [];
        await pool(Array.from({ length: 300 }, (_, i) => i), 16, async (i) => {
          statuses.push((await request(app.server.url, `/users/${i}`)).status);
        });
        assert.equal(statuses.length, 300);
        assert.ok(statuses.every((s) => s === 200), 'every request answered 200 while the collector is unreachable');
        const dropped = await waitForMetric(app, reason);
        assert.ok(dropped > 0, `lost records counted as ${reason}`);
        assert.equal(await metric(app, 'observability_log_lines_shipped_total', { transport: 'otlp' }), 0);
      } finally {
        await app.stop();
        await receiver.close();
      }
    });
  }

  it('shutdown() flushes the records still queued', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp({ logging: { stdout: false, otlp: { endpoint: receiver.logsUrl, scheduledDelayMillis: 60_000 } } });
    for (let i = 0; i < 5; i++) assert.equal((await request(app.server.url, `/users/${i}`)).status, 200);
    assert.equal(receiver.logs.length, 0, 'nothing exported before the scheduled delay');
    await app.stop();
    assert.equal(receiver.logs.length, 10, 'five req.log records and five access records flushed at shutdown');
    await receiver.close();
  });

  it('logging.otlp.level: only lines at or above it are sent', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp({ logging: { stdout: false, otlp: { endpoint: receiver.logsUrl, level: 'warn' } } });
    assert.equal((await request(app.server.url, '/users/1')).status, 200);
    assert.equal((await request(app.server.url, '/error')).status, 500);
    app.obs.logger.warn('disk almost full');
    await app.stop();
    assert.deepEqual(receiver.logs.map((l) => [l.severityText, l.body]).sort(), [['error', 'GET /error 500'], ['warn', 'disk almost full']]);
    await receiver.close();
  });
});

async function waitForMetric(app: Running, reason: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const n = await metric(app, 'observability_log_lines_dropped_total', { transport: 'otlp', reason });
    if (n > 0) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
  return 0;
}
