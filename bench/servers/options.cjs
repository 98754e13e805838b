'use strict';
// createObservability() options of the "metrics only" and "full stack" benchmark servers.
// Sections are only passed when this build of the package knows them (other parts of the
// stack land over time); the server reports which parts it wired on stderr ("PARTS ...").
const { createObservability } = require('./common.cjs').loadPackage();

/** Top-level option keys this build accepts (read from the validator's own error message). */
function knownTopKeys() {
  try {
    createObservability({ __bench_probe__: true });
  } catch (err) {
    const m = /\(known: ([^)]*)\)/.exec(String(err && err.message));
    if (m) return new Set(m[1].split(',').map((s) => s.trim()));
    throw err;
  }
  throw new Error('createObservability accepted an unknown option; cannot probe its option keys');
}

/** Metrics only: HTTP + process metrics; tracing, logging, sampler and alerts off where they exist. */
function metricsOnlyOptions() {
  const known = knownTopKeys();
  const opts = { serviceName: 'bench' };
  if (known.has('tracing')) opts.tracing = { enabled: false };
  if (known.has('logging')) opts.logging = { enabled: false };
  if (known.has('system')) opts.system = { enabled: false };
  if (known.has('alerts')) opts.alerts = { enabled: false };
  if (known.has('dashboard')) opts.dashboard = { enabled: false };
  // BENCH_ONE_LAYER=1: the middleware answers the endpoints itself (one Express layer, no obs.router).
  if (process.env.BENCH_ONE_LAYER === '1') opts.middlewareEndpoints = true;
  return opts;
}

/**
 * BENCH_OFF=part,... (A/B only, never in `npm run bench`): parts left out to see what each costs:
 * otlp, es, file, access, system, alerts, dashboard, ring (the in-memory span ring), logring (the dashboard's log lines).
 * Several parts: separate them with '+' (bench/gc.mjs and bench/ab.mjs split their VAR=value lists on ',').
 */
function benchOff() {
  return new Set((process.env.BENCH_OFF || '').split(/[,+]/).filter(Boolean));
}

/** The span ring's size for an A/B: BENCH_RING=n sets it, BENCH_OFF=ring empties it, else the package's default. */
function withBenchRing(tracing, off) {
  if (off.has('ring')) tracing.ringBufferSize = 0;
  if (process.env.BENCH_RING) tracing.ringBufferSize = Number(process.env.BENCH_RING);
  return tracing;
}

/**
 * Traced: HTTP + process metrics and a SERVER span for every request exported over OTLP/HTTP
 * (batch) to `otlpUrl`; logging, sampler, alerts and dashboard off where they exist.
 */
function tracedOptions({ otlpUrl }) {
  const known = knownTopKeys();
  if (!known.has('tracing')) throw new Error('this build has no tracing section');
  const opts = metricsOnlyOptions();
  opts.tracing = withBenchRing({ enabled: true, sampler: 'always_on', ...(otlpUrl ? { endpoint: `${otlpUrl}/v1/traces` } : {}) }, benchOff());
  return opts;
}

/**
 * Full stack: every part this build has, each pointed at the given backends; every request
 * sampled and access-logged. Returns the options and the names of the parts wired.
 */
function fullOptions({ otlpUrl, esUrl, logFile }) {
  const known = knownTopKeys();
  const off = benchOff();
  if (off.has('otlp')) otlpUrl = undefined;
  if (off.has('es')) esUrl = undefined;
  const parts = ['metrics'];
  const options = { serviceName: 'bench' };
  if (known.has('tracing')) {
    options.tracing = withBenchRing({ enabled: true, sampler: 'always_on', ...(otlpUrl ? { endpoint: `${otlpUrl}/v1/traces` } : {}) }, off);
    parts.push(otlpUrl ? 'tracing (every request, batch OTLP/HTTP export)' : 'tracing (every request, no exporter)');
  }
  if (known.has('logging')) {
    options.logging = {
      enabled: true,
      accessLog: !off.has('access'),
      ...(off.has('file') ? {} : { file: logFile }),
      stdout: false,
      ...(esUrl ? { elasticsearch: { url: esUrl } } : {}),
    };
    parts.push(esUrl ? 'access log → JSON file + Elasticsearch _bulk' : 'access log → JSON file');
  }
  if (off.has('system')) options.system = { enabled: false };
  if (off.has('alerts')) options.alerts = { enabled: false };
  if (off.has('dashboard')) options.dashboard = { enabled: false };
  if (known.has('system') && !off.has('system')) {
    options.system = { enabled: true };
    parts.push('system sampler (default interval)');
  }
  if (known.has('alerts') && !off.has('alerts')) {
    options.alerts = {
      enabled: true,
      interval: '1s',
      notifiers: [{ type: 'log' }],
      rules: [
        { kind: 'errorRatio', name: 'HighErrorRatio', threshold: 0.05, window: '1m' },
        { kind: 'latency', name: 'SlowRequests', quantile: 0.99, threshold: 0.5, window: '1m' },
      ],
      slos: [{ name: 'availability', objective: 0.999 }],
    };
    parts.push('alert evaluator (2 rules + 1 SLO, every 1 s)');
  }
  if (known.has('dashboard') && !off.has('dashboard')) {
    // A dashboard someone can open: in production the router serves it only behind auth (the
    // dashboard is off by default where it is not served). /metrics stays open for the drop counters.
    options.dashboard = { enabled: true, ...(off.has('logring') ? { logBufferSize: 0 } : {}) };
    if (known.has('auth')) options.auth = { bearerTokens: ['bench-dashboard-token'], paths: ['/dashboard', '/alerts'] };
    parts.push('dashboard (served behind auth)');
  }
  return { options, parts };
}

module.exports = { knownTopKeys, metricsOnlyOptions, tracedOptions, fullOptions };
