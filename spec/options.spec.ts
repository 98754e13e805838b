import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createObservability, type ObservabilityOptions } from '../lib';
import { RESERVED_LABELS } from '../lib/options';

function rejects(options: unknown, type: typeof TypeError | typeof RangeError, pattern: RegExp): void {
  assert.throws(
    () => createObservability(options as ObservabilityOptions),
    (err: unknown) => {
      assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
      assert.match((err as Error).message, pattern);
      return true;
    },
  );
}

describe('createObservability options', () => {
  it('rejects wrong types with a TypeError naming the option', () => {
    rejects({ serviceName: 42 }, TypeError, /"serviceName"/);
    rejects({ metrics: { defaultMetrics: 'yes' } }, TypeError, /"metrics\.defaultMetrics" must be a boolean, got "yes"/);
    rejects({ metrics: { buckets: 'fast' } }, TypeError, /"metrics\.buckets"/);
    rejects({ metrics: { maxLabelSets: '10' } }, TypeError, /"metrics\.maxLabelSets" must be a number/);
    rejects({ metrics: { normalizePath: '/x' } }, TypeError, /"metrics\.normalizePath" must be a function/);
    rejects({ metrics: { excludePaths: [1] } }, TypeError, /"metrics\.excludePaths\[0\]"/);
    rejects({ metrics: { defaultLabels: { env: 1 } } }, TypeError, /"metrics\.defaultLabels\.env"/);
    rejects({ registry: {} }, TypeError, /"registry" must be a prom-client Registry/);
    rejects('shop', TypeError, /must be an object/);
  });

  it("rejects default labels that Prometheus reserves or the package's metrics use; the reserved list covers every label of a full instance", async () => {
    for (const name of ['le', 'quantile', 'route', 'status_code', 'transport']) {
      rejects({ metrics: { defaultLabels: { [name]: 'x' } } }, TypeError, new RegExp(`"metrics\\.defaultLabels\\.${name}" must be a label name the package's metrics do not use`));
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'eo-labels-'));
    const obs = createObservability({
      views: true,
      metrics: { defaultLabels: { env: 'test' } },
      tracing: { endpoint: 'http://127.0.0.1:9/v1/traces' },
      logging: { stdout: false, elasticsearch: { url: 'http://127.0.0.1:9' }, loki: { url: 'http://127.0.0.1:9' }, spool: { dir } },
      alerts: { enabled: true },
    });
    try {
      assert.ok(obs.system, 'the sampler runs');
      await obs.system.sample();
      const used = new Set<string>();
      for (const m of obs.registry.getMetricsAsArray()) for (const l of (m as { labelNames?: string[] }).labelNames ?? []) used.add(l);
      assert.ok(used.has('route') && used.has('mountpoint') && used.has('transport'), [...used].join(' '));
      for (const l of used) assert.ok(RESERVED_LABELS.has(l), `label "${l}" of the package's metrics is not in RESERVED_LABELS`);
    } finally {
      await obs.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates logging.spool, naming the option', async () => {
    rejects({ logging: { spool: {} } }, TypeError, /"logging\.spool\.dir" must be a directory path/);
    rejects({ logging: { spool: { dir: 7 } } }, TypeError, /"logging\.spool\.dir"/);
    rejects({ logging: { spool: { dir: '/tmp/x', maxBytes: 1000 } } }, RangeError, /"logging\.spool\.maxBytes" must be at least 65536/);
    rejects({ logging: { spool: { dir: '/tmp/x', sync: 'never' } } }, RangeError, /"logging\.spool\.sync" must be "always" or an interval in milliseconds/);
    rejects({ logging: { spool: { dir: '/tmp/x', sync: 0 } } }, RangeError, /"logging\.spool\.sync" must be at least 1/);
    rejects({ logging: { spool: { dir: '/tmp/x', fsync: true } } }, TypeError, /unknown option "logging\.spool\.fsync"/);
    const obs = createObservability({ logging: { stdout: false, spool: { dir: 'relative/spool' } } });
    assert.deepEqual(obs.options.logging.spool, { dir: `${process.cwd()}/relative/spool`, maxBytes: 268435456, syncMs: 200 });
    await obs.shutdown();
  });

  it('rejects unknown keys, naming them', () => {
    rejects({ servicename: 'x' }, TypeError, /unknown option "servicename"/);
    rejects({ metrics: { bucket: [1] } }, TypeError, /unknown option "metrics\.bucket"/);
  });

  it('rejects out-of-range values with a RangeError naming the option', () => {
    rejects({ metrics: { buckets: [0.1, -1, 2] } }, RangeError, /"metrics\.buckets".*bucket \[1\].*negative/);
    rejects({ metrics: { buckets: [1, 0.5] } }, RangeError, /"metrics\.buckets".*increase/);
    rejects({ metrics: { maxLabelSets: 0 } }, RangeError, /"metrics\.maxLabelSets" must be at least 1/);
    rejects({ metrics: { maxLabelSets: 1.5 } }, RangeError, /"metrics\.maxLabelSets" must be an integer/);
    rejects({ metrics: { prefix: '9bad' } }, TypeError, /"metrics\.prefix"/);
    rejects({ serviceName: '' }, TypeError, /"serviceName"/);
  });

  it('refuses what would only fail later: durations past the timer limit, bad header names and values, a spool dir that cannot be made', () => {
    rejects({ logging: { shutdownTimeoutMs: 2 ** 32 } }, RangeError, /"logging\.shutdownTimeoutMs" must be at most 2147483647/);
    rejects({ logging: { elasticsearch: { url: 'http://127.0.0.1:9', timeoutMs: 2 ** 31 } } }, RangeError, /"logging\.elasticsearch\.timeoutMs" must be at most 2147483647/);
    rejects({ logging: { loki: { url: 'http://127.0.0.1:9', flushIntervalMs: 2 ** 40 } } }, RangeError, /"logging\.loki\.flushIntervalMs" must be at most/);
    rejects({ tracing: { scheduledDelayMillis: 2 ** 31 } }, RangeError, /"tracing\.scheduledDelayMillis" must be at most/);
    rejects({ logging: { elasticsearch: { url: 'http://127.0.0.1:9', headers: { 'bad header': 'x' } } } }, TypeError, /"logging\.elasticsearch\.headers\.bad header" must be under a valid HTTP header name/);
    rejects({ logging: { loki: { url: 'http://127.0.0.1:9', headers: { 'x-tenant': 'a\r\nb' } } } }, TypeError, /"logging\.loki\.headers\.x-tenant" must be a valid HTTP header value/);
    rejects({ tracing: { headers: { 'x-tenant': '\u30c6\u30ca\u30f3\u30c8' } } }, TypeError, /"tracing\.headers\.x-tenant" must be a valid HTTP header value/);
    // Options of a standalone transport, which an instance's transports would ignore.
    rejects({ logging: { elasticsearch: { url: 'http://127.0.0.1:9', registry: new Registry() } } }, TypeError, /"logging\.elasticsearch\.registry" must be left out: it is an option of a transport used on its own/);
    rejects({ logging: { elasticsearch: { url: 'http://127.0.0.1:9', serviceName: 'x' } } }, TypeError, /"logging\.elasticsearch\.serviceName" must be left out/);
    rejects({ logging: { loki: { url: 'http://127.0.0.1:9', registry: new Registry() } } }, TypeError, /"logging\.loki\.registry" must be left out/);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'eo-spool-file-')), 'a-file');
    writeFileSync(file, '');
    assert.throws(
      () => createObservability({ logging: { stdout: false, elasticsearch: { url: 'http://127.0.0.1:9' }, spool: { dir: file } } }),
      /option "logging\.spool\.dir": ".*a-file" cannot be created/,
    );
    rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('refuses malformed OTEL_* timeouts and resource attributes, naming the variable; an empty OTEL_SERVICE_NAME is unset', async () => {
    const saved = { ...process.env };
    const withEnv = (vars: Record<string, string>, fn: () => void): void => {
      Object.assign(process.env, vars);
      try {
        fn();
      } finally {
        for (const k of Object.keys(vars)) {
          if (saved[k] === undefined) delete process.env[k];
          else process.env[k] = saved[k];
        }
      }
    };
    const traced = { tracing: { endpoint: 'http://127.0.0.1:9/v1/traces' }, logging: { stdout: false }, system: { enabled: false } };
    withEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: 'abc' }, () => rejects(traced, RangeError, /environment variable OTEL_EXPORTER_OTLP_TIMEOUT must be an integer from 1 to 2147483647, got "abc"/));
    withEnv({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '-5' }, () => rejects(traced, RangeError, /OTEL_EXPORTER_OTLP_TRACES_TIMEOUT/));
    withEnv({ OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: 'abc' }, () => rejects({ logging: { stdout: false, otlp: true }, system: { enabled: false } }, RangeError, /OTEL_EXPORTER_OTLP_LOGS_TIMEOUT/));
    withEnv({ OTEL_BSP_SCHEDULE_DELAY: String(2 ** 32) }, () => rejects(traced, RangeError, /OTEL_BSP_SCHEDULE_DELAY must be an integer from 1 to 2147483647/));
    // The batch must fit the queue the variable sets, not the default one.
    withEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '5000' }, () => {
      const ok = createObservability({ ...traced, tracing: { ...traced.tracing, maxExportBatchSize: 3000 } });
      void ok.shutdown();
      rejects({ ...traced, tracing: { ...traced.tracing, maxExportBatchSize: 6000 } }, RangeError, /"tracing\.maxExportBatchSize" must be at most tracing\.maxQueueSize \(5000\)/);
    });
    withEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.version=%zz' }, () => rejects({}, RangeError, /environment variable OTEL_RESOURCE_ATTRIBUTES must be percent-encoded values \(service\.version's is not\)/));
    let obs: ReturnType<typeof createObservability> | undefined;
    withEnv({ OTEL_SERVICE_NAME: '' }, () => {
      obs = createObservability({ metrics: { defaultMetrics: false }, logging: { stdout: false }, system: { enabled: false } });
    });
    assert.equal(obs?.options.serviceName, 'unknown_service:node');
    await obs?.shutdown();
  });

  it('never mutates the caller options and freezes the resolved ones', async () => {
    const input = { serviceName: 'shop', metrics: { buckets: [0.1, 1] } };
    const snapshot = JSON.stringify(input);
    const obs = createObservability(input);
    assert.equal(JSON.stringify(input), snapshot);
    assert.ok(Object.isFrozen(obs.options));
    assert.ok(Object.isFrozen(obs.options.metrics));
    assert.deepEqual(obs.options.metrics.buckets, [0.1, 1]);
    await obs.shutdown();
  });

  it('options win over OTEL_SERVICE_NAME; the variable is the default', async () => {
    const saved = process.env.OTEL_SERVICE_NAME;
    process.env.OTEL_SERVICE_NAME = 'from-env';
    try {
      const a = createObservability({ serviceName: 'from-option', metrics: { defaultMetrics: false } });
      const b = createObservability({ metrics: { defaultMetrics: false } });
      assert.equal(a.options.serviceName, 'from-option');
      assert.equal(b.options.serviceName, 'from-env');
      await a.shutdown();
      await b.shutdown();
    } finally {
      if (saved === undefined) delete process.env.OTEL_SERVICE_NAME;
      else process.env.OTEL_SERVICE_NAME = saved;
    }
  });

  it('accepts an injected registry and registers everything there', async () => {
    const registry = new Registry();
    const obs = createObservability({ registry, metrics: { defaultMetrics: false } });
    assert.equal(obs.registry, registry);
    assert.ok(registry.getSingleMetric('http_server_request_duration_seconds'));
    await obs.shutdown();
  });

  it('shutdown() is idempotent', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false } });
    const p1 = obs.shutdown();
    const p2 = obs.shutdown();
    assert.equal(p1, p2);
    await p1;
  });
});
