import assert from 'node:assert/strict';
import { withProcessEnv } from './support/env';
import { after, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import express from 'express';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { listen, request } from './support/http';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';

const OTEL_VARS = [
  'OTEL_SERVICE_NAME',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_SDK_DISABLED',
];

/** Create an instance with `env` set in process.env (restored right after construction). */
function withEnv(env: Record<string, string>, options: ObservabilityOptions = {}): Observability {
  return withProcessEnv(OTEL_VARS, env, () => createObservability({ metrics: { defaultMetrics: false }, ...options }));
}

/** Serve one traced request through `obs` and flush. */
async function oneRequest(obs: Observability, path = '/users/1'): Promise<void> {
  const app = express();
  app.use(obs.middleware);
  app.get('/users/:id', (_req, res) => {
    res.json({});
  });
  const server = await listen(app);
  try {
    assert.equal((await request(server.url, path)).status, 200);
    await obs.tracing.forceFlush();
  } finally {
    await server.close();
  }
}

const receivers: OtlpReceiver[] = [];
async function receiver(): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver();
  receivers.push(r);
  return r;
}

after(async () => {
  for (const r of receivers) await r.close();
});

describe('tracing: OTEL_* environment variables (options win)', () => {

  it('OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT over it, tracing.endpoint over both', async () => {
    const [a, b, c] = [await receiver(), await receiver(), await receiver()];
    const base = withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: `${a.url}/`, OTEL_SERVICE_NAME: 'env-name' });
    await oneRequest(base);
    await base.shutdown();
    assert.equal(a.spans.length, 1);
    assert.equal(a.spans[0]?.resource['service.name'], 'env-name');

    const specific = withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: a.url, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: b.tracesUrl });
    await oneRequest(specific);
    await specific.shutdown();
    assert.equal(b.spans.length, 1);

    const option = withEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: b.tracesUrl, OTEL_SERVICE_NAME: 'env-name' }, { serviceName: 'option-name', tracing: { endpoint: c.tracesUrl } });
    await oneRequest(option);
    await option.shutdown();
    assert.equal(c.spans.length, 1);
    assert.equal(c.spans[0]?.resource['service.name'], 'option-name');
    assert.equal(a.spans.length + b.spans.length, 2, 'nothing more reached the environment endpoints');
  });

  it('http/protobuf by default; OTEL_EXPORTER_OTLP_PROTOCOL picks the encoding, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL over it, tracing.protocol over both', async () => {
    const r = await receiver();
    const typeOfLast = (): string => String(r.requests.at(-1)?.['content-type']);
    const cases: [Record<string, string>, ObservabilityOptions['tracing'], string][] = [
      [{}, {}, 'application/x-protobuf'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, {}, 'application/json'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, {}, 'application/x-protobuf'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, {}, 'application/json'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '  ' }, {}, 'application/json'],
      [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, { protocol: 'http/protobuf' }, 'application/x-protobuf'],
      [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }, { protocol: 'http/json' }, 'application/json'],
    ];
    for (const [env, tracing, type] of cases) {
      const obs = withEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: r.tracesUrl, ...env }, { tracing });
      const before = r.spans.length;
      await oneRequest(obs);
      await obs.shutdown();
      assert.equal(r.spans.length, before + 1, `one span decoded (${JSON.stringify(env)})`);
      assert.equal(r.spans.at(-1)?.attributes['http.route'], '/users/:id');
      assert.equal(typeOfLast(), type, JSON.stringify({ env, tracing }));
    }
    assert.deepEqual(r.errors, []);
  });

  it('OTEL_TRACES_SAMPLER=always_off samples nothing (no span, no exemplar); tracing.sampler wins', async () => {
    const r = await receiver();
    const off = withEnv({ OTEL_TRACES_SAMPLER: 'always_off' }, { tracing: { endpoint: r.tracesUrl } });
    await oneRequest(off);
    const text = await off.registry.metrics();
    await off.shutdown();
    assert.equal(r.spans.length, 0);
    assert.ok(!text.includes('trace_id='), 'an unsampled request leaves no exemplar');

    const on = withEnv({ OTEL_TRACES_SAMPLER: 'always_off' }, { tracing: { endpoint: r.tracesUrl, sampler: 'always_on' } });
    await oneRequest(on);
    await on.shutdown();
    assert.equal(r.spans.length, 1);
  });

  it('OTEL_TRACES_SAMPLER=traceidratio with OTEL_TRACES_SAMPLER_ARG=0 samples nothing', async () => {
    const r = await receiver();
    const obs = withEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, { tracing: { endpoint: r.tracesUrl } });
    for (let i = 0; i < 5; i++) await oneRequest(obs);
    await obs.shutdown();
    assert.equal(r.spans.length, 0);
  });

  it('OTEL_SDK_DISABLED=true turns tracing off unless tracing.enabled says otherwise', async () => {
    const r = await receiver();
    const off = withEnv({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
    assert.equal(off.tracing.enabled, false);
    await oneRequest(off);
    await off.shutdown();
    assert.equal(r.spans.length, 0);
    const on = withEnv({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: r.url }, { tracing: { enabled: true } });
    await oneRequest(on);
    await on.shutdown();
    assert.equal(r.spans.length, 1);
  });

  it('OTEL_EXPORTER_OTLP_TRACES_HEADERS over OTEL_EXPORTER_OTLP_HEADERS (read by the exporter); a blank one counts as unset, as for the endpoint and protocol', async () => {
    const r = await receiver();
    for (const [env, tenant] of [
      [{ OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=generic' }, 'generic'],
      [{ OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=generic', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=traces' }, 'traces'],
      [{ OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=generic', OTEL_EXPORTER_OTLP_TRACES_HEADERS: '   ' }, 'generic'],
    ] as const) {
      const before = r.requests.length;
      const obs = withEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: r.tracesUrl, ...env });
      await oneRequest(obs);
      await obs.shutdown();
      const sent = r.requests.slice(before);
      assert.ok(sent.length > 0, 'an export reached the receiver');
      assert.ok(sent.every((h) => h['x-tenant'] === tenant), `${JSON.stringify(env)}: x-tenant=${tenant}`);
    }
  });

  it('invalid variables fail construction naming the variable', () => {
    assert.throws(() => withEnv({ OTEL_TRACES_SAMPLER: 'sometimes' }), /OTEL_TRACES_SAMPLER must be one of/);
    assert.throws(() => withEnv({ OTEL_TRACES_SAMPLER_ARG: '1.5' }), /OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1/);
    assert.throws(() => withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), /OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
    assert.throws(() => withEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }), /OTEL_EXPORTER_OTLP_HEADERS must be a list of key=value pairs/);
    assert.throws(() => withEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json \(grpc is not supported/);
    assert.throws(() => withEnv({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/xml' }), /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be http\/protobuf or http\/json/);
    assert.throws(() => createObservability({ tracing: { protocol: 'grpc' as never } }), { name: 'TypeError', message: /"tracing.protocol"/ });
  });
});

describe('tracing: global OpenTelemetry registration', () => {
  after(() => {
    trace.disable();
  });

  it('registerGlobal: true makes the instance provider the global one', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false }, tracing: { registerGlobal: true } });
    trace.getTracer('someone-else').startSpan('global api span').end();
    assert.deepEqual(obs.tracing.recentTraces().map((t) => t.name), ['global api span']);
    await obs.shutdown();
    trace.disable();
  });

  it('an application-registered global tracer provider is used instead of replaced', async () => {
    const r = await receiver();
    const appProvider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'app-owned-provider' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: r.tracesUrl }))],
    });
    assert.equal(trace.setGlobalTracerProvider(appProvider), true);
    const obs = createObservability({ serviceName: 'ours', metrics: { defaultMetrics: false }, tracing: { registerGlobal: true } });
    assert.equal(obs.tracing.usesGlobalProvider, true);
    await oneRequest(obs, '/users/77');
    await appProvider.forceFlush();
    const spans = await r.waitForSpans((s) => s.some((x) => x.attributes['url.path'] === '/users/77'));
    const span = spans.find((x) => x.attributes['url.path'] === '/users/77');
    assert.equal(span?.name, 'GET /users/:id');
    assert.equal(span?.resource['service.name'], 'app-owned-provider', "exported through the application's provider");
    await obs.shutdown();
    await appProvider.shutdown();
  });
});
