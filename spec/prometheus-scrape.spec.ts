import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDemo, type DemoProcess } from './support/demo';
import { pool, request, waitFor } from './support/http';
import { startPrometheus, type PrometheusServer } from './support/prometheus';

describe('a real Prometheus scraping the demo app', () => {
  let demo: DemoProcess;
  let prom: PrometheusServer;
  before(async () => {
    demo = await startDemo();
    prom = await startPrometheus({ targets: [`127.0.0.1:${demo.port}`], scrapeInterval: '1s' });
  });
  after(async () => {
    await prom?.stop();
    await demo?.stop();
  });

  it('stores the request count per route template, and no series carries a raw id', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => 1000 + i);
    await pool(ids, 5, (id) => request(demo.url, `/users/${id}`));
    await pool([11, 12, 13], 3, (id) => request(demo.url, `/shops/${id}/items/${id + 500}`));
    await request(demo.url, `/no-such-page-${Date.now()}`);
    const result = await waitFor(
      async () => {
        const v = await prom.query('http_server_request_duration_seconds_count{route="/users/:id"}');
        return v.length === 1 && v[0]?.value[1] === '25' ? v : undefined;
      },
      30_000,
      250,
      'Prometheus to store 25 requests for /users/:id',
    );
    assert.equal(result[0]?.metric.method, 'GET');
    assert.equal(result[0]?.metric.status_code, '200');

    const up = await prom.query('up{job="app"}');
    assert.equal(up[0]?.value[1], '1');

    const series = await prom.api<Array<Record<string, string>>>(
      `/api/v1/series?match[]=${encodeURIComponent('{__name__=~"http_server_.*"}')}`,
    );
    assert.ok(series.length > 0);
    const routes = new Set(series.map((s) => s.route).filter((r): r is string => r !== undefined));
    assert.ok(routes.has('/users/:id'));
    assert.ok(routes.has('/shops/:shopId/items/:itemId'));
    assert.ok(routes.has('unmatched'));
    for (const s of series) {
      for (const [k, v] of Object.entries(s)) {
        if (k === '__name__' || k === 'le' || k === 'instance') continue;
        assert.doesNotMatch(v, /10\d\d|\/1[123]\/|5[01]\d|no-such-page/, `raw id in ${k}="${v}"`);
      }
    }
  });
});
