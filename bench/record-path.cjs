'use strict';
// Request-path cost of the HTTP metrics record path, in process: `node bench/record-path.cjs [buildDir]`.
// 1e6 `HttpMetrics.record()` calls over 8 label sets with exemplars on (a trace id on every request),
// then the histogram observation alone three ways: the bound series (what record() uses), prom-client's
// public bound child (`histogram.labels(...).observe`) and prom-client's `observe({ labels, value })`.
// Prints the median of 5 rounds in ns per call. Not a test; asserts nothing. Reads the per-module build, build/
// (or the build directory given), so two builds can be compared.
const path = require('node:path');
const buildDir = path.resolve(process.argv[2] || path.join(__dirname, '..', 'build'));
const { Registry } = require('prom-client');
const { MetricsCollector } = require(path.join(buildDir, 'metrics', 'collector.js'));
const { HttpMetrics, OTEL_HTTP_DURATION_BUCKETS } = require(path.join(buildDir, 'metrics', 'http-metrics.js'));
const fs = require('node:fs');
// The bound series: `bindHistogramSeries` of the adapter, or (builds before it) `new BoundHistogramSeries`.
const adapterFile = path.join(buildDir, 'metrics', 'prom-client-adapter.js');
const bind = fs.existsSync(adapterFile)
  ? require(adapterFile).bindHistogramSeries
  : (hist, labels) => new (require(path.join(buildDir, 'metrics', 'bound-series.js')).BoundHistogramSeries)(hist, labels);

const N = 1e6;
const ROUNDS = 5;
const routes = ['/users/:id', '/orders/:id', '/', '/health'];
const methods = ['GET', 'POST'];
const values = Float64Array.from({ length: 1024 }, (_, i) => ((i * 7919) % 1000) / 2000);
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn) {
  const rounds = [];
  fn(N / 10); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn(N);
    rounds.push(Number(process.hrtime.bigint() - t0) / N);
  }
  return { median: median(rounds), rounds };
}

function setup() {
  const registry = new Registry(Registry.OPENMETRICS_CONTENT_TYPE);
  const collector = new MetricsCollector(registry);
  const http = new HttpMetrics(collector, { buckets: OTEL_HTTP_DURATION_BUCKETS, bodySizes: false, maxLabelSets: 1000, exemplars: true });
  return { registry, collector, http };
}

const results = {};
{
  const { http } = setup();
  results['HttpMetrics.record (exemplars on)'] = time((n) => {
    for (let i = 0; i < n; i++) http.record(methods[i & 1], routes[(i >> 1) & 3], '200', values[i & 1023], traceId);
  });
}
const labelSets = [];
for (const m of methods) for (const r of routes) labelSets.push(Object.freeze({ method: m, route: r, status_code: '200' }));
{
  const { http } = setup();
  const series = labelSets.map((l) => bind(http.duration, l));
  results['bound series observe'] = time((n) => {
    for (let i = 0; i < n; i++) series[i & 7].observe(values[i & 1023]);
  });
}
{
  const { http } = setup();
  const children = labelSets.map((l) => http.duration.labels(l));
  results['prom-client labels(...).observe'] = time((n) => {
    for (let i = 0; i < n; i++) children[i & 7].observe(values[i & 1023]);
  });
}
{
  const { http } = setup();
  results['prom-client observe({labels, value})'] = time((n) => {
    for (let i = 0; i < n; i++) http.duration.observe({ labels: labelSets[i & 7], value: values[i & 1023] });
  });
}
console.log(`node ${process.version}, prom-client ${require('prom-client/package.json').version}, build ${buildDir}`);
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(40)} ${v.median.toFixed(1).padStart(7)} ns/call  (rounds ${v.rounds.map((x) => x.toFixed(0)).join(' ')})`);
