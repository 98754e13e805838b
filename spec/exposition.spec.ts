import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDemo, type DemoProcess } from './support/demo';
import { samples } from './support/exposition';
import { pool, request } from './support/http';
import { promtool } from './support/tools';

const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** promtool flags prom-client's default nodejs_active_*_total gauges (a known, harmless exception). */
function ownLintFindings(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^nodejs_active_\w+_total/.test(l));
}

describe('/metrics exposition of the demo app', () => {
  let demo: DemoProcess;
  before(async () => {
    demo = await startDemo();
    const paths = [
      ...Array.from({ length: 30 }, (_, i) => `/users/${i}`),
      ...Array.from({ length: 10 }, (_, i) => `/api/orders/${i}`),
      ...Array.from({ length: 5 }, (_, i) => `/shops/${i}/items/${i * 3}`),
      '/error',
      '/error',
      '/',
      '/missing/path',
      '/slow',
    ];
    await pool(paths, 8, (p) => request(demo.url, p));
  });
  after(async () => {
    await demo.stop();
  });

  it('text 0.0.4 passes `promtool check metrics` with no findings on our own metrics', async () => {
    const r = await request(demo.url, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const check = promtool(['check', 'metrics'], r.body);
    const findings = ownLintFindings(check.stdout + check.stderr);
    assert.deepEqual(findings, [], `promtool findings:\n${check.stdout}${check.stderr}`);
    // 30 direct requests + 10 that /api/orders/:orderId makes to /users/:id (its traced outgoing call).
    assert.equal(samples(r.body, 'http_server_request_duration_seconds_count', { route: '/users/:id', status_code: '200' })[0]?.value, 40);
    assert.equal(samples(r.body, 'http_server_request_duration_seconds_count', { route: '/api/orders/:orderId', status_code: '200' })[0]?.value, 10);
    assert.equal(samples(r.body, 'http_server_request_duration_seconds_count', { route: '/error', status_code: '500' })[0]?.value, 2);
    assert.ok(samples(r.body, 'process_cpu_user_seconds_total').length === 1, 'default process metrics present');
  });

  it('negotiates OpenMetrics from the Accept header and keeps text names intact afterwards', async () => {
    const om = await request(demo.url, '/metrics', { headers: { accept: OPENMETRICS_ACCEPT } });
    assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.ok(om.body.endsWith('# EOF\n'));
    assert.match(om.body, /^# TYPE process_cpu_user_seconds counter$/m);
    assert.match(om.body, /^process_cpu_user_seconds_total /m);
    // After an OpenMetrics scrape, the text format must still carry counter names with _total.
    const text = await request(demo.url, '/metrics', { headers: { accept: 'text/plain;version=0.0.4' } });
    assert.match(text.body, /^# TYPE process_cpu_user_seconds_total counter$/m);
    const check = promtool(['check', 'metrics'], text.body);
    assert.deepEqual(ownLintFindings(check.stdout + check.stderr), []);
  });

  it('answers HEAD and concurrent scrapes of both formats consistently', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(demo.url, '/metrics', { headers: { accept: i % 2 ? OPENMETRICS_ACCEPT : 'text/plain' } }),
      ),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      if (i % 2) assert.ok(r.body.endsWith('# EOF\n'));
      else assert.ok(!r.body.includes('# EOF'));
    }
  });
});
