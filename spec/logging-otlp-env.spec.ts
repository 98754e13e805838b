import assert from 'node:assert/strict';
import { withProcessEnv } from './support/env';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { ROOT } from './support/demo';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';

const VARS = [
  'OTEL_SERVICE_NAME',
  'OTEL_SDK_DISABLED',
  'OTEL_LOGS_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_LOGS_HEADERS',
  'OTEL_BLRP_MAX_QUEUE_SIZE',
  'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BLRP_SCHEDULE_DELAY',
];

/** An instance built with exactly `env` as its OTEL_* environment (restored right after construction). */
function withEnv(env: Record<string, string>, options: ObservabilityOptions = {}): Observability {
  return withProcessEnv(VARS, env, () => createObservability({ metrics: { defaultMetrics: false }, ...options, logging: { stdout: false, ...options.logging } }));
}

/** Log one line through `obs`, shut it down (which flushes), and return how many log export requests `r` got meanwhile. */
async function logAndStop(obs: Observability, r: OtlpReceiver, message: string): Promise<number> {
  const before = r.logRequests.length;
  obs.logger.info(message, { via: 'env' });
  await obs.shutdown();
  return r.logRequests.length - before;
}

const receivers: OtlpReceiver[] = [];
async function receiver(): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver();
  receivers.push(r);
  return r;
}
after(async () => {
  for (const r of receivers) await r.close();
  for (const r of receivers) assert.deepEqual(r.errors, []);
});

describe('logs over OTLP from the environment alone (options win)', () => {
  it('OTEL_LOGS_EXPORTER=otlp + OTEL_EXPORTER_OTLP_ENDPOINT: records at <endpoint>/v1/logs in http/protobuf, OTEL_SERVICE_NAME in the resource', async () => {
    const r = await receiver();
    const obs = withEnv({ OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `${r.url}/`, OTEL_SERVICE_NAME: 'env-svc' });
    assert.equal(await logAndStop(obs, r, 'from env'), 1);
    const rec = r.logs.find((l) => l.body === 'from env');
    assert.equal(rec?.attributes.via, 'env');
    assert.equal(rec?.resource['service.name'], 'env-svc');
    assert.equal(r.logRequests[0]?.['content-type'], 'application/x-protobuf', 'http/protobuf by default');
  });

  it('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT alone turns logs on and wins over the generic endpoint; the generic endpoint alone does not', async () => {
    const [generic, specific] = [await receiver(), await receiver()];
    const on = withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: generic.url, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: specific.logsUrl });
    assert.equal(await logAndStop(on, specific, 'specific'), 1);
    const off = withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: generic.url });
    assert.equal(off.options.logging.otlp, undefined);
    assert.equal(await logAndStop(off, generic, 'generic only'), 0, 'the generic endpoint alone sends traces, not logs');
    assert.equal(generic.logs.length, 0);
  });

  it('OTEL_LOGS_EXPORTER=none and OTEL_SDK_DISABLED=true keep logs off; logging.otlp turns them on anyway, logging.otlp: false off', async () => {
    const r = await receiver();
    const env = { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: r.logsUrl };
    for (const obs of [
      withEnv({ ...env, OTEL_LOGS_EXPORTER: 'none' }),
      withEnv({ ...env, OTEL_SDK_DISABLED: 'true' }),
      withEnv({ ...env, OTEL_LOGS_EXPORTER: 'otlp' }, { logging: { otlp: false } }),
    ]) {
      assert.equal(obs.options.logging.otlp, undefined);
      assert.equal(await logAndStop(obs, r, 'stays off'), 0);
    }
    assert.equal(await logAndStop(withEnv({ ...env, OTEL_LOGS_EXPORTER: 'none' }, { logging: { otlp: true } }), r, 'option wins'), 1);
  });

  it('protocol: OTEL_EXPORTER_OTLP_LOGS_PROTOCOL over OTEL_EXPORTER_OTLP_PROTOCOL over http/protobuf; logging.otlp.protocol over both', async () => {
    const r = await receiver();
    const cases: [Record<string, string>, 'http/json' | 'http/protobuf' | undefined, string][] = [
      [{}, undefined, 'application/x-protobuf'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, undefined, 'application/json'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' }, undefined, 'application/x-protobuf'],
      [{ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' }, 'http/json', 'application/json'],
    ];
    for (const [env, protocol, type] of cases) {
      const obs = withEnv({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: r.logsUrl, ...env }, { logging: protocol ? { otlp: { protocol } } : {} });
      assert.equal(await logAndStop(obs, r, JSON.stringify(env)), 1);
      assert.equal(r.logRequests.at(-1)?.['content-type'], type, JSON.stringify({ env, protocol }));
      assert.ok(r.logs.some((l) => l.body === JSON.stringify(env)), 'decoded');
    }
  });

  it('headers: OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_LOGS_HEADERS merged (logs one wins), logging.otlp.headers over both', async () => {
    const r = await receiver();
    const obs = withEnv(
      { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: r.logsUrl, OTEL_EXPORTER_OTLP_HEADERS: 'x-a=generic,x-b=generic,x-c=generic', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-b=logs,x-c=logs' },
      { logging: { otlp: { headers: { 'x-c': 'option' } } } },
    );
    assert.equal(await logAndStop(obs, r, 'headers'), 1);
    const h = r.logRequests.at(-1);
    assert.deepEqual([h?.['x-a'], h?.['x-b'], h?.['x-c']], ['generic', 'logs', 'option']);
  });

  it('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE bounds the records per export request', async () => {
    const r = await receiver();
    const obs = withEnv({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: r.logsUrl, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '1', OTEL_BLRP_SCHEDULE_DELAY: '60000' });
    for (let i = 0; i < 3; i++) obs.logger.info(`line ${i}`);
    await obs.shutdown();
    assert.equal(r.logRequests.length, 3, 'one record per request');
    assert.equal(r.logs.length, 3);
  });

  it('invalid variables and options fail construction naming them', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ OTEL_LOGS_EXPORTER: 'kafka' }, /OTEL_LOGS_EXPORTER must be a list of otlp, console, none/],
      [{ OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_LOGS_PROTOCOL must be http\/protobuf or http\/json \(grpc is not supported/],
      [{ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'not a url' }, /OTEL_EXPORTER_OTLP_LOGS_ENDPOINT must be an http\(s\) URL/],
      [{ OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'novalue' }, /OTEL_EXPORTER_OTLP_LOGS_HEADERS must be a list of key=value pairs/],
      [{ OTEL_LOGS_EXPORTER: 'otlp', OTEL_BLRP_MAX_QUEUE_SIZE: 'lots' }, /OTEL_BLRP_MAX_QUEUE_SIZE must be an integer of at least 1/],
    ];
    for (const [env, message] of bad) assert.throws(() => withEnv(env), { name: 'RangeError', message }, JSON.stringify(env));
    assert.throws(() => createObservability({ logging: { otlp: 'yes' as never } }), { name: 'TypeError', message: /"logging.otlp"/ });
    assert.throws(() => createObservability({ logging: { otlp: { endpoint: 'ftp://x' } } }), { name: 'RangeError', message: /"logging.otlp.endpoint"/ });
    assert.throws(() => createObservability({ logging: { otlp: { protocol: 'grpc' as never } } }), { name: 'TypeError', message: /"logging.otlp.protocol"/ });
    assert.throws(() => createObservability({ logging: { otlp: { maxQueueSize: 10, maxExportBatchSize: 20 } } }), /"logging.otlp.maxExportBatchSize"/);
    assert.throws(() => createObservability({ logging: { otlp: { url: 'http://x' } as never } }), /unknown option "logging.otlp.url"/);
  });
});

describe('start-up cost: OTLP modules load only for what is exported', () => {
  /** The @opentelemetry packages a fresh process has loaded after createObservability(options). */
  function loaded(options: ObservabilityOptions): string[] {
    const script = `const { createObservability } = require('./lib');
      const obs = createObservability(${JSON.stringify({ metrics: { defaultMetrics: false }, system: { enabled: false }, ...options })});
      const mods = new Set(Object.keys(require.cache).map((k) => /node_modules\\/(@opentelemetry\\/[^/]+)/.exec(k)?.[1]).filter(Boolean));
      console.log(JSON.stringify([...mods].sort()));
      obs.shutdown();`;
    const env = { ...process.env };
    for (const k of VARS) delete env[k];
    return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env, encoding: 'utf8' })) as string[];
  }
  const exporters = (mods: string[]): string[] => mods.filter((m) => /exporter|sdk-logs|api-logs|otlp-transformer/.test(m));

  it('nothing exported: no exporter, no logs SDK', () => {
    assert.deepEqual(exporters(loaded({ logging: { stdout: false } })), []);
  });

  it('logs over OTLP (protobuf) and traces over OTLP/JSON: exactly those two exporters', () => {
    const mods = loaded({ logging: { stdout: false, otlp: { endpoint: 'http://127.0.0.1:9/v1/logs' } }, tracing: { endpoint: 'http://127.0.0.1:9/v1/traces', protocol: 'http/json' } });
    assert.deepEqual(exporters(mods), [
      '@opentelemetry/api-logs',
      '@opentelemetry/exporter-logs-otlp-proto',
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/otlp-exporter-base',
      '@opentelemetry/otlp-transformer',
      '@opentelemetry/sdk-logs',
    ]);
  });
});
