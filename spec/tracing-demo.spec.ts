import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDemo, type DemoProcess } from './support/demo';
import { request, waitFor } from './support/http';
import { OTLP_KIND, OTLP_STATUS, startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';
import { startPrometheus, type PrometheusServer } from './support/prometheus';

const PARENT = 'a1b2c3d4e5f60718';

interface ExemplarResult {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

describe('tracing and OTLP logs in the demo app (built package, OTEL_* environment)', () => {
  let receiver: OtlpReceiver;
  let demo: DemoProcess;
  before(async () => {
    receiver = await startOtlpReceiver();
    demo = await startDemo({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=demo%20key,x-team=shop',
      OTEL_SERVICE_NAME: 'demo-from-env',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_BLRP_SCHEDULE_DELAY: '50',
    });
  });
  after(async () => {
    assert.equal(await demo.stop(), 0, 'the demo exits 0 after SIGTERM');
    await receiver.close();
    assert.deepEqual(receiver.errors, []);
  });

  it('/api/orders/:orderId: SERVER span → "load order" → CLIENT span → the callee SERVER span, one trace, exported to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const traceId = '7'.repeat(31) + 'a';
    const res = await request(demo.url, '/api/orders/7', { headers: { traceparent: `00-${traceId}-${PARENT}-01` } });
    assert.equal(res.status, 200);
    const spans = await receiver.waitForSpans((s) => s.filter((x) => x.traceId === traceId).length >= 4);
    const mine = spans.filter((s) => s.traceId === traceId);
    const root = mine.find((s) => s.name === 'GET /api/orders/:orderId');
    const load = mine.find((s) => s.name === 'load order');
    const client = mine.find((s) => s.kind === OTLP_KIND.CLIENT);
    const callee = mine.find((s) => s.name === 'GET /users/:id');
    assert.ok(root && load && client && callee, `spans: ${mine.map((s) => s.name).join(', ')}`);
    assert.equal(root.parentSpanId, PARENT);
    assert.equal(load.parentSpanId, root.spanId);
    assert.equal(load.attributes['order.id'], '7');
    assert.equal(client.parentSpanId, load.spanId);
    assert.equal(callee.kind, OTLP_KIND.SERVER);
    assert.equal(callee.parentSpanId, client.spanId, 'the outgoing call carried traceparent');
    assert.ok(root.events.some((e) => e.name === 'order loaded'));
    assert.equal(root.resource['service.name'], 'demo-from-env');
    assert.ok(receiver.requests.some((h) => h['x-api-key'] === 'demo key' && h['x-team'] === 'shop'), 'OTEL_EXPORTER_OTLP_HEADERS sent');
  });

  it('OTEL_LOGS_EXPORTER=otlp: the demo\'s log lines reach the collector as log records of the same trace and span', async () => {
    const traceId = '1095'.repeat(8);
    assert.equal((await request(demo.url, '/users/5', { headers: { traceparent: `00-${traceId}-${PARENT}-01` } })).status, 200);
    const span = (await receiver.waitForSpans((s) => s.some((x) => x.traceId === traceId))).find((x) => x.traceId === traceId);
    const logs = await receiver.waitForLogs((l) => l.filter((x) => x.traceId === traceId).length >= 2);
    const looked = logs.find((l) => l.traceId === traceId && l.body === 'user looked up');
    const access = logs.find((l) => l.traceId === traceId && l.attributes.type === 'access');
    assert.equal(looked?.attributes.userId, '5');
    assert.equal(looked?.spanId, span?.spanId);
    assert.equal(access?.attributes['http.route'], '/users/:id');
    assert.equal(access?.spanId, span?.spanId);
    assert.equal(looked?.resource['service.name'], 'demo-from-env');
    assert.ok(receiver.logRequests.every((h) => h['content-type'] === 'application/x-protobuf' && h['x-api-key'] === 'demo key'), 'protobuf by default, OTEL_EXPORTER_OTLP_HEADERS sent');
  });

  it('/error: status ERROR with the exception event', async () => {
    const traceId = 'e'.repeat(31) + '1';
    await request(demo.url, '/error', { headers: { traceparent: `00-${traceId}-${PARENT}-01` } });
    const span = (await receiver.waitForSpans((s) => s.some((x) => x.traceId === traceId))).find((x) => x.traceId === traceId);
    assert.equal(span?.name, 'GET /error');
    assert.equal(span?.status.code, OTLP_STATUS.ERROR);
    assert.equal(span?.events.find((e) => e.name === 'exception')?.attributes['exception.message'], 'demo failure: /error always fails');
  });
});

describe('exemplars: a real Prometheus with exemplar storage links a latency bucket to the trace', () => {
  let demo: DemoProcess;
  let prom: PrometheusServer;
  before(async () => {
    demo = await startDemo();
    prom = await startPrometheus({ targets: [`127.0.0.1:${demo.port}`], features: ['exemplar-storage'] });
  });
  after(async () => {
    await prom.stop();
    await demo.stop();
  });

  it('query_exemplars returns the trace id of a sampled request', async () => {
    const traceId = '5eed'.repeat(8);
    const res = await request(demo.url, '/users/99', { headers: { traceparent: `00-${traceId}-${PARENT}-01` } });
    assert.equal(res.status, 200);
    const metrics = await request(demo.url, '/metrics', { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    assert.match(metrics.body, new RegExp(`http_server_request_duration_seconds_bucket\\{[^}]*route="/users/:id"[^}]*\\} 1 # \\{trace_id="${traceId}"\\}`));
    const found = await waitFor(async () => {
      const now = Date.now() / 1000;
      const q = encodeURIComponent('http_server_request_duration_seconds_bucket{route="/users/:id"}');
      const data = await prom.api<ExemplarResult[]>(`/api/v1/query_exemplars?query=${q}&start=${now - 600}&end=${now + 60}`);
      return data.flatMap((d) => d.exemplars).find((e) => e.labels.trace_id === traceId);
    }, 30_000, 500, 'the exemplar in Prometheus');
    assert.equal(found.labels.trace_id, traceId);
    assert.ok(Number(found.value) > 0);
  });
});
