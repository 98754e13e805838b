// The prom-client adapter (lib/metrics/prom-client-adapter.ts): the one place that writes into
// prom-client's private histogram state. These tests fail when the assumption it is built on breaks:
// another prom-client version in node_modules, or a histogram's series entry no longer where it looks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MetricsCollector } from '../lib/metrics/collector';
import { HttpMetrics, OTEL_HTTP_DURATION_BUCKETS } from '../lib/metrics/http-metrics';
import { bindHistogramSeries, histogramCounts, PINNED_PROM_CLIENT_VERSION, PROM_CLIENT, promClientSupport } from '../lib/metrics/prom-client-adapter';
import { createRegistry } from '../lib/metrics/registry';
import { samples } from './support/exposition';

const installed = (JSON.parse(readFileSync(require.resolve('prom-client/package.json'), 'utf8')) as { version: string }).version;

function histogram(exemplars: boolean) {
  const registry = createRegistry();
  const hist = new MetricsCollector(registry).histogram('work_seconds', 'Work.', ['method', 'route'], [0.1, 1], { exemplars });
  return { registry, hist };
}

describe('prom-client adapter', () => {
  it('is pinned to the prom-client installed in node_modules, and its check at load accepts it', () => {
    assert.equal(installed, PINNED_PROM_CLIENT_VERSION, 'bump PINNED_PROM_CLIENT_VERSION only after re-checking lib/histogram.js');
    assert.equal(PROM_CLIENT.version, installed);
    assert.equal(PROM_CLIENT.reason, undefined);
    assert.equal(PROM_CLIENT.usable, true);
  });

  it('binds the series entry of the installed prom-client and observes into it: the exposition counts every observation', async () => {
    const { registry, hist } = histogram(true);
    const series = bindHistogramSeries(hist, Object.freeze({ method: 'GET', route: '/a' }));
    series.observe(0.05);
    assert.equal(series.bound, true, 'the adapter found prom-client\'s hashMap entry of the series');
    series.observe(0.5, { trace_id: 'abc' });
    series.observe(5);
    const text = await registry.metrics();
    assert.equal(samples(text, 'work_seconds_count', { route: '/a' })[0]?.value, 3);
    assert.equal(samples(text, 'work_seconds_sum', { route: '/a' })[0]?.value, 5.55);
    assert.equal(samples(text, 'work_seconds_bucket', { route: '/a', le: '0.1' })[0]?.value, 1);
    assert.equal(samples(text, 'work_seconds_bucket', { route: '/a', le: '1' })[0]?.value, 2);
    assert.equal(samples(text, 'work_seconds_bucket', { route: '/a', le: '+Inf' })[0]?.value, 3);
    assert.match(text, /work_seconds_bucket\{le="1",method="GET",route="\/a"\} 2 # \{trace_id="abc"\} 0\.5 /);
  });

  it("reads every series' counts from prom-client's own state, as its exposition gives them", async () => {
    const { registry, hist } = histogram(false);
    const bound = bindHistogramSeries(hist, Object.freeze({ method: 'GET', route: '/a' }));
    for (const v of [0.0625, 0.5, 5, 0.125, 7]) bound.observe(v);
    hist.observe({ method: 'POST', route: '/b' }, 0.75);
    hist.observe({ method: 'POST', route: '/b' }, 30);
    hist.observe({ method: 'GET', route: '/c' }, 0.015625);
    const fast = await histogramCounts(hist);
    const slow = await histogramCounts(hist, promClientSupport('0.0.0', undefined));
    const byRoute = (c: typeof fast) => Object.fromEntries(c.series.map((x) => [String(x.labels.route), { method: x.labels.method, buckets: x.buckets, sum: x.sum, count: x.count }]));
    assert.deepEqual(fast.bounds, [0.1, 1]);
    assert.deepEqual(slow.bounds, [0.1, 1]);
    assert.deepEqual(byRoute(fast), {
      '/a': { method: 'GET', buckets: [1, 2, 2], sum: 12.6875, count: 5 },
      '/b': { method: 'POST', buckets: [0, 1, 1], sum: 30.75, count: 2 },
      '/c': { method: 'GET', buckets: [1, 0, 0], sum: 0.015625, count: 1 },
    });
    assert.deepEqual(byRoute(slow), byRoute(fast), 'the exposition gives the same counts');
    registry.resetMetrics();
    assert.deepEqual((await histogramCounts(hist)).series, [], 'a reset registry has no series');
  });

  it('rebinds after a registry reset instead of writing into a series prom-client dropped', async () => {
    const { registry, hist } = histogram(false);
    const series = bindHistogramSeries(hist, Object.freeze({ method: 'GET', route: '/a' }));
    series.observe(0.05);
    registry.resetMetrics();
    assert.equal(series.bound, false);
    series.observe(0.5);
    series.observe(0.5);
    assert.equal(series.bound, true);
    assert.equal(samples(await registry.metrics(), 'work_seconds_count', { route: '/a' })[0]?.value, 2);
  });

  it('another version, or a missing hashObject, turns the fast path off and says why', () => {
    const util = { hashObject: () => '' };
    const other = promClientSupport('15.2.0', util);
    assert.equal(other.usable, false);
    assert.match(other.reason ?? '', /prom-client 15\.2\.0 is not 15\.1\.3.*public API/);
    assert.equal(promClientSupport(PINNED_PROM_CLIENT_VERSION, {}).usable, false);
    assert.match(promClientSupport(undefined, undefined).reason ?? '', /unknown version/);
  });

  it('without the fast path HttpMetrics reports it once and exposes exactly what the fast path exposes', async () => {
    const run = async (support = PROM_CLIENT) => {
      const registry = createRegistry();
      const reported: string[] = [];
      const http = new HttpMetrics(new MetricsCollector(registry), {
        buckets: OTEL_HTTP_DURATION_BUCKETS,
        bodySizes: false,
        maxLabelSets: 100,
        exemplars: false,
        reportError: (component, err) => reported.push(`${component}: ${err instanceof Error ? err.message : String(err)}`),
        promClient: support,
      });
      for (let i = 0; i < 50; i++) http.record(i % 2 ? 'GET' : 'POST', `/r${i % 3}`, i % 5 ? '200' : '500', (i % 13) / 10, undefined);
      return { text: await registry.metrics(), reported };
    };
    const fast = await run();
    const slow = await run(promClientSupport('99.0.0', undefined));
    assert.deepEqual(fast.reported, []);
    assert.equal(slow.reported.length, 1);
    assert.match(slow.reported[0] ?? '', /^prom-client-adapter: prom-client 99\.0\.0 is not 15\.1\.3/);
    assert.equal(slow.text, fast.text);
    assert.equal(samples(fast.text, 'http_server_request_duration_seconds_count', { method: 'GET', route: '/r1', status_code: '200' })[0]?.value, 8);
  });
});
