import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { listen, pool, request, type Listening } from './support/http';
import { OTLP_KIND, OTLP_STATUS, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { PACKAGE_VERSION } from '../lib/version';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
// The SDK anchors each root span's clock on Date.now() (1 ms resolution) read beside performance.now();
// a preemption between the two reads (a loaded machine) widens that: 10 ms of skew are allowed.
const SKEW_NS = 10_000_000n;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Running {
  readonly obs: Observability;
  readonly server: Listening;
}

async function startApp(receiver: OtlpReceiver, tracing: ObservabilityOptions['tracing'] = {}): Promise<Running> {
  const obs = createObservability({
    serviceName: 'orders-svc',
    serviceVersion: '2.3.4',
    metrics: { defaultMetrics: false },
    tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20, headers: { 'x-tenant': 'acme' }, ...tracing },
  });
  const app = express();
  app.use(obs.middleware);
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.get('/bad', (_req, res) => {
    res.status(400).json({ error: 'bad' });
  });
  app.get('/fail', (_req, res) => {
    res.status(503).json({ error: 'down' });
  });
  app.get('/error', () => {
    throw new TypeError('kaboom in handler');
  });
  app.get('/next-error', (_req, _res, next) => {
    next(new RangeError('passed to next'));
  });
  app.get('/work/:n', async (req, res) => {
    const n = Number(req.params.n);
    await obs.tracing.withSpan('step one', async () => {
      await sleep((n * 7) % 13);
      obs.tracing.setAttribute('work.n', n);
      await obs.tracing.withSpan('step two', async () => {
        await sleep((n * 5) % 11);
        obs.tracing.addEvent('halfway', { 'work.n': n });
      }, { attributes: { 'work.n': n }, kind: 'client' });
    });
    res.json({ n });
  });
  app.use(obs.errorHandler);
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'internal' });
  });
  return { obs, server: await listen(app) };
}

function only(spans: readonly ReceivedSpan[], pred: (s: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(pred);
  assert.equal(found.length, 1, `expected exactly one matching span, got ${found.length}: ${found.map((s) => s.name).join(', ')}`);
  return found[0] as ReceivedSpan;
}

for (const protocol of ['http/json', 'http/protobuf'] as const) describe(`tracing: SERVER spans exported over OTLP/HTTP (${protocol})`, () => {
  let receiver: OtlpReceiver;
  let app: Running;
  before(async () => {
    receiver = await startOtlpReceiver();
    app = await startApp(receiver, { protocol });
  });
  after(async () => {
    await app.server.close();
    await app.obs.shutdown();
    await receiver.close();
    assert.deepEqual(receiver.errors, []);
    const types = new Set(receiver.requests.map((h) => String(h['content-type'])));
    assert.deepEqual([...types], [protocol === 'http/json' ? 'application/json' : 'application/x-protobuf'], 'every export in the chosen encoding');
  });

  it('continues an incoming traceparent: exactly one SERVER span with the caller as parent, template name, semconv attributes', async () => {
    const res = await request(app.server.url, '/users/42?token=s3cr3t&page=2', {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=abc', 'user-agent': 'spec-agent/1.0' },
    });
    assert.equal(res.status, 200);
    const spans = await receiver.waitForSpans((s) => s.some((x) => x.traceId === TRACE_ID));
    const span = only(spans, (s) => s.traceId === TRACE_ID);
    assert.equal(span.kind, OTLP_KIND.SERVER);
    assert.equal(span.parentSpanId, PARENT_ID);
    assert.equal(span.traceState, 'vendor=abc');
    assert.equal(span.name, 'GET /users/:id');
    assert.equal(span.status.code, OTLP_STATUS.UNSET);
    const a = span.attributes;
    assert.equal(a['http.request.method'], 'GET');
    assert.equal(a['url.path'], '/users/42');
    assert.equal(a['url.scheme'], 'http');
    assert.equal(a['url.query'], 'token=[REDACTED]&page=2');
    assert.equal(a['http.route'], '/users/:id');
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['server.address'], '127.0.0.1');
    assert.equal(a['server.port'], app.server.port);
    assert.equal(a['client.address'], '127.0.0.1');
    assert.equal(a['user_agent.original'], 'spec-agent/1.0');
    assert.equal(a['network.protocol.version'], '1.1');
    assert.equal(a['http.method'], undefined, 'legacy names are off by default');
    assert.ok(!JSON.stringify(span, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes('s3cr3t'), 'the secret never leaves the process');
    assert.equal(span.resource['service.name'], 'orders-svc');
    assert.equal(span.resource['service.version'], '2.3.4');
    assert.equal(span.scope.name, 'express-observability');
    assert.equal(span.scope.version, PACKAGE_VERSION, "the scope's version is the package's (the instrumentation), not the service's");
    assert.ok(span.endTimeUnixNano >= span.startTimeUnixNano);
    assert.ok(receiver.requests.some((h) => h['x-tenant'] === 'acme'), 'tracing.headers reach the collector');
  });

  it('a thrown error or next(err) gives status ERROR and an exception event; 5xx is ERROR; 4xx stays UNSET', async () => {
    const ids = ['1', '2', '3', '4', '5'].map((d) => d.repeat(32));
    const paths = ['/error', '/next-error', '/fail', '/bad', '/nowhere'];
    for (const [i, path] of paths.entries()) {
      await request(app.server.url, path, { headers: { traceparent: `00-${ids[i]}-${PARENT_ID}-01` } });
    }
    const spans = await receiver.waitForSpans((s) => ids.every((id) => s.some((x) => x.traceId === id)));
    const [thrown, passed, fail, bad, nowhere] = ids.map((id) => only(spans, (s) => s.traceId === id));
    for (const [span, type, message] of [
      [thrown, 'TypeError', 'kaboom in handler'],
      [passed, 'RangeError', 'passed to next'],
    ] as const) {
      assert.equal(span?.status.code, OTLP_STATUS.ERROR);
      assert.equal(span?.attributes['http.response.status_code'], 500);
      const ev = span?.events.find((e) => e.name === 'exception');
      assert.ok(ev, 'exception event recorded');
      assert.equal(ev.attributes['exception.type'], type);
      assert.equal(ev.attributes['exception.message'], message);
      assert.match(String(ev.attributes['exception.stacktrace']), new RegExp(`${type}: ${message}\\n\\s+at `));
    }
    assert.equal(thrown?.name, 'GET /error');
    assert.equal(fail?.status.code, OTLP_STATUS.ERROR);
    assert.equal(fail?.attributes['error.type'], '503');
    assert.deepEqual(fail?.events, []);
    assert.equal(bad?.status.code, OTLP_STATUS.UNSET);
    assert.equal(bad?.attributes['http.response.status_code'], 400);
    assert.equal(nowhere?.name, 'GET', 'unmatched requests are named by method alone');
    assert.equal(nowhere?.attributes['http.route'], undefined);
    assert.equal(nowhere?.status.code, OTLP_STATUS.UNSET);
  });

  it('withSpan children stay parented correctly across await with 100 interleaved concurrent requests', async () => {
    const n = 100;
    const traceIds = Array.from({ length: n }, (_, i) => (i + 1).toString(16).padStart(32, 'a'));
    await pool(traceIds, n, async (id, i) => {
      const res = await request(app.server.url, `/work/${i}`, { headers: { traceparent: `00-${id}-${PARENT_ID}-01` } });
      assert.equal(res.status, 200);
    });
    const spans = await receiver.waitForSpans((s) => s.filter((x) => traceIds.includes(x.traceId)).length >= 3 * n, 20_000);
    for (const [i, id] of traceIds.entries()) {
      const mine = spans.filter((s) => s.traceId === id);
      assert.equal(mine.length, 3, `trace ${i} has its three spans`);
      const server = only(mine, (s) => s.kind === OTLP_KIND.SERVER);
      const one = only(mine, (s) => s.name === 'step one');
      const two = only(mine, (s) => s.name === 'step two');
      assert.equal(server.parentSpanId, PARENT_ID);
      assert.equal(server.name, 'GET /work/:n');
      assert.equal(one.parentSpanId, server.spanId, `step one of request ${i} is a child of its own SERVER span`);
      assert.equal(two.parentSpanId, one.spanId, `step two of request ${i} is a child of its own step one`);
      assert.equal(one.kind, OTLP_KIND.INTERNAL);
      assert.equal(two.kind, OTLP_KIND.CLIENT);
      assert.equal(one.attributes['work.n'], i, 'setAttribute hit the active span of this request');
      assert.equal(two.attributes['work.n'], i);
      assert.deepEqual(two.events.map((e) => [e.name, e.attributes['work.n']]), [['halfway', i]]);
      assert.ok(one.startTimeUnixNano + SKEW_NS >= server.startTimeUnixNano, `child starts after its parent (${one.startTimeUnixNano} < ${server.startTimeUnixNano})`);
      assert.ok(one.endTimeUnixNano <= server.endTimeUnixNano + SKEW_NS, `child ends before its parent (${one.endTimeUnixNano} > ${server.endTimeUnixNano})`);
    }
  });

  it('requests without a traceparent start new traces with fresh ids: distinct, 32 and 16 lowercase hex digits, never zero', async () => {
    const n = 400;
    const paths = Array.from({ length: n }, (_, i) => `/users/fresh-${i}`);
    await pool(paths, 20, async (p) => {
      assert.equal((await request(app.server.url, p)).status, 200);
    });
    const fresh = (s: readonly ReceivedSpan[]): ReceivedSpan[] => s.filter((x) => typeof x.attributes['url.path'] === 'string' && String(x.attributes['url.path']).startsWith('/users/fresh-'));
    const spans = fresh(await receiver.waitForSpans((s) => fresh(s).length >= n));
    assert.equal(spans.length, n);
    const traceIds = new Set(spans.map((s) => s.traceId));
    const spanIds = new Set(spans.map((s) => s.spanId));
    assert.equal(traceIds.size, n, 'every new trace has its own trace id');
    assert.equal(spanIds.size, n, 'every span has its own span id');
    for (const s of spans) {
      assert.match(s.traceId, /^[0-9a-f]{32}$/);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      assert.notEqual(s.traceId, '0'.repeat(32));
      assert.notEqual(s.spanId, '0'.repeat(16));
      assert.equal(s.parentSpanId, undefined, 'a new trace has no parent');
    }
  });

  it('withSpan records a rejection as ERROR with an exception event, rethrows, and ends the span', async () => {
    const tracing = app.obs.tracing;
    await assert.rejects(
      tracing.withSpan('failing job', async () => {
        await sleep(1);
        throw new Error('job failed');
      }),
      /job failed/,
    );
    assert.throws(() => tracing.withSpan('sync failure', () => {
      throw new SyntaxError('sync boom');
    }), /sync boom/);
    assert.equal(tracing.withSpan('sync value', () => 42), 42);
    const spans = await receiver.waitForSpans((s) => ['failing job', 'sync failure', 'sync value'].every((n) => s.some((x) => x.name === n)));
    const failing = only(spans, (s) => s.name === 'failing job');
    assert.equal(failing.status.code, OTLP_STATUS.ERROR);
    assert.equal(failing.events[0]?.attributes['exception.message'], 'job failed');
    assert.equal(failing.parentSpanId, undefined, 'outside a request a withSpan span is a root');
    assert.equal(only(spans, (s) => s.name === 'sync failure').events[0]?.attributes['exception.type'], 'SyntaxError');
    assert.equal(only(spans, (s) => s.name === 'sync value').status.code, OTLP_STATUS.UNSET);
  });
});

describe('tracing options', () => {
  it('legacyAttributes also emits http.method, http.url, http.scheme, http.status_code', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp(receiver, { legacyAttributes: true });
    try {
      await request(app.server.url, '/users/7?api_key=zzz', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
      const span = only(await receiver.waitForSpans((s) => s.length > 0), () => true);
      assert.equal(span.attributes['http.method'], 'GET');
      assert.equal(span.attributes['http.scheme'], 'http');
      assert.equal(span.attributes['http.status_code'], 200);
      assert.equal(span.attributes['http.url'], `http://127.0.0.1:${app.server.port}/users/7?api_key=[REDACTED]`);
      assert.equal(span.attributes['http.request.method'], 'GET', 'stable names stay');
    } finally {
      await app.server.close();
      await app.obs.shutdown();
      await receiver.close();
    }
  });

  it('sampleRatio 0 samples nothing new but a sampled parent is still honoured (parent-based)', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp(receiver, { sampleRatio: 0 });
    try {
      await request(app.server.url, '/users/1');
      await request(app.server.url, '/users/2', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
      await request(app.server.url, '/users/3', { headers: { traceparent: `00-${'c'.repeat(32)}-${PARENT_ID}-00` } });
      await app.obs.tracing.forceFlush();
      const spans = await receiver.waitForSpans((s) => s.length > 0);
      await sleep(100);
      assert.deepEqual(receiver.spans.map((s) => s.traceId), [TRACE_ID]);
      assert.equal(spans[0]?.attributes['url.path'], '/users/2');
    } finally {
      await app.server.close();
      await app.obs.shutdown();
      await receiver.close();
    }
  });

  it('rejects invalid tracing options naming the option', () => {
    assert.throws(() => createObservability({ tracing: { sampleRatio: 2 } }), { name: 'RangeError', message: /"tracing.sampleRatio"/ });
    assert.throws(() => createObservability({ tracing: { endpoint: 'ftp://x' } }), /"tracing.endpoint" must be an http\(s\) URL/);
    assert.throws(() => createObservability({ tracing: { sampler: 'sometimes' as never } }), { name: 'TypeError', message: /"tracing.sampler"/ });
    assert.throws(() => createObservability({ tracing: { maxQueueSize: 10, maxExportBatchSize: 20 } }), /"tracing.maxExportBatchSize"/);
    assert.throws(() => createObservability({ tracing: { exporter: 'x' } as never }), /unknown option "tracing.exporter"/);
  });

  it('enabled: false creates no spans; withSpan still runs the function', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startApp(receiver, { enabled: false });
    try {
      const res = await request(app.server.url, '/work/3');
      assert.equal(res.status, 200);
      assert.equal(app.obs.tracing.withSpan('x', () => 'ran'), 'ran');
      await app.obs.tracing.forceFlush();
      await sleep(100);
      assert.equal(receiver.spans.length, 0);
      assert.deepEqual(app.obs.tracing.recentTraces(), []);
    } finally {
      await app.server.close();
      await app.obs.shutdown();
      await receiver.close();
    }
  });
});
