import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { launchBrowser, type HeadlessBrowser } from './support/browser';
import { listen, pool, request, waitFor, type Listening } from './support/http';

const running: { obs: Observability; server: Listening }[] = [];
async function start(options: ObservabilityOptions, routes: (app: express.Express, obs: Observability) => void): Promise<{ obs: Observability; server: Listening }> {
  const obs = createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false }, ...options });
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  routes(app, obs);
  app.use(obs.errorHandler);
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: 'internal' });
  });
  const r = { obs, server: await listen(app) };
  running.push(r);
  return r;
}
const json = async <T>(base: string, path: string): Promise<T> => {
  const r = await request(base, path);
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  return JSON.parse(r.body) as T;
};

interface Trace { traceId: string; route?: string; error: boolean; statusCode?: number; durationMs: number }
interface Line { traceId?: string; message: string; level: string }

describe('dashboard JSON API and joins', () => {
  let chrome: HeadlessBrowser;
  before(async () => {
    chrome = await launchBrowser();
  });
  after(async () => {
    await chrome?.close();
    for (const r of running) {
      await r.server.close();
      await r.obs.shutdown();
    }
  });

  it('joins signals as JSON: error log line → trace, firing alert → its traces, trace → log lines', async () => {
    const { obs, server } = await start(
      { serviceName: 'joins', alerts: { interval: '1h', rules: [{ name: 'BoomErrors', kind: 'errorRatio', route: '/boom', threshold: 0.1, window: '1m', annotations: { summary: 'boom is failing' } }] } },
      (app, o) => {
        app.get('/boom', () => {
          throw new Error('kaboom');
        });
        app.get('/fine', (_req, res) => {
          o.logger.info('all fine');
          res.json({ ok: true });
        });
      },
    );
    await pool(['/boom', '/boom', '/boom', '/fine', '/fine'], 2, (p) => request(server.url, p));
    await obs.alerts.evaluate();

    const errors = await json<Line[]>(server.url, '/dashboard/api/logs?level=error');
    assert.ok(errors.length >= 3);
    const line = errors[0] as Line;
    assert.match(line.traceId ?? '', /^[0-9a-f]{32}$/);
    const trace = await json<{ spans: { kind: string; attributes: Record<string, unknown> }[]; logs: Line[] }>(server.url, `/dashboard/api/traces/${line.traceId}`);
    assert.equal(trace.spans[0]?.kind, 'SERVER');
    assert.equal(trace.spans[0]?.attributes['http.route'], '/boom');
    assert.ok(trace.logs.some((l) => l.level === 'error'));

    const summary = await json<{ alerts: { active: { name: string; state: string; labels: Record<string, string>; summary?: string }[] } }>(server.url, '/dashboard/api/summary');
    const firing = summary.alerts.active.find((a) => a.name === 'BoomErrors');
    assert.equal(firing?.state, 'firing');
    assert.equal(firing?.labels.route, '/boom');
    const behind = await json<{ traces: Trace[] }>(server.url, '/dashboard/api/alerts/traces?name=BoomErrors');
    assert.equal(behind.traces.length, 3);
    assert.ok(behind.traces.every((t) => t.route === '/boom' && t.error && t.statusCode === 500));

    // Filters of the recent-traces list; errors first, then slowest.
    const list = await json<Trace[]>(server.url, '/dashboard/api/traces');
    assert.deepEqual(list.map((t) => t.error), [true, true, true, false, false]);
    assert.ok(list[3]!.durationMs >= list[4]!.durationMs);
    assert.equal((await json<Trace[]>(server.url, '/dashboard/api/traces?status=ok&route=%2Ffine')).length, 2);
    assert.equal((await json<Trace[]>(server.url, '/dashboard/api/traces?status=5xx')).length, 3);
    assert.equal((await json<Trace[]>(server.url, '/dashboard/api/traces?minMs=60000')).length, 0);
    assert.equal((await request(server.url, '/dashboard/api/traces/not-a-trace-id')).status, 400);
    assert.equal((await request(server.url, `/dashboard/api/traces/${'0'.repeat(32)}`)).status, 404);
    assert.equal((await request(server.url, '/dashboard/api/alerts/traces?name=Nope')).status, 404);

    // The same join in the page: the alert's "traces" link filters the list to the traces behind it.
    const { page, problems } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#alerts-active li[data-name="BoomErrors"] a.alert-traces').click();
    await waitFor(async () => {
      const names = await page.locator('#traces tbody tr td.name').allTextContents();
      return names.length === 3 && names.every((n) => n === 'GET /boom');
    }, 10_000, 100, 'alert traces in the list');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows what is there when tracing is off, and serves nothing with dashboard.enabled: false', async () => {
    const { server } = await start({ tracing: { enabled: false } }, (app) => app.get('/a', (_req, res) => res.json({})));
    await request(server.url, '/a');
    const s = await json<{ sources: Record<string, boolean>; routes: { route: string }[]; traces: unknown[] }>(server.url, '/dashboard/api/summary');
    assert.equal(s.sources.traces, false);
    assert.equal(s.sources.health, true);
    assert.deepEqual(s.routes.map((r) => r.route), ['/a']);
    const { page, problems } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#traces-off:not(.hidden)').waitFor();
    await page.locator('#routes tbody tr[data-route="/a"]').waitFor();
    assert.deepEqual(problems, []);
    await page.close();

    const off = await start({ dashboard: { enabled: false } }, () => undefined);
    assert.equal((await request(off.server.url, '/dashboard')).status, 404);
    assert.equal((await request(off.server.url, '/dashboard/api/summary')).status, 404);
  });

  it('stays responsive with 500 routes: all listed, sortable and filterable', async () => {
    const { server } = await start({ metrics: { defaultMetrics: false, maxLabelSets: 5000 } }, (app) => {
      for (let i = 0; i < 500; i++) app.get(`/r${String(i).padStart(3, '0')}/:id`, (_req, res) => res.json({ i }));
    });
    await pool(Array.from({ length: 500 }, (_, i) => `/r${String(i).padStart(3, '0')}/${i}`), 16, (p) => request(server.url, p));
    const t0 = Date.now();
    const summary = await request(server.url, '/dashboard/api/summary');
    const apiMs = Date.now() - t0;
    assert.equal((JSON.parse(summary.body) as { routes: unknown[] }).routes.length, 500);

    const { page, problems } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    await waitFor(async () => (await page.locator('#routes tbody tr').count()) === 500, 20_000, 100, '500 rows');
    const sortMs = await page.evaluate(() => {
      const th = document.querySelector('#routes th[data-sort="route"]') as HTMLElement;
      const t = performance.now();
      th.click();
      return performance.now() - t;
    });
    assert.equal(await page.locator('#routes tbody tr').first().getAttribute('data-route'), '/r000/:id');
    await page.locator('#routes th[data-sort="route"]').click();
    assert.equal(await page.locator('#routes tbody tr').first().getAttribute('data-route'), '/r499/:id');
    await page.locator('#route-filter').fill('r42');
    await waitFor(async () => (await page.locator('#routes tbody tr').count()) === 10, 5000, 50, 'filtered rows');
    console.log(`500 routes: summary ${summary.body.length} bytes in ${apiMs} ms, client sort ${sortMs.toFixed(1)} ms`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('validates the dashboard option, naming the bad key', () => {
    const bad: [unknown, RegExp][] = [
      [{ traceUrlTemplate: 'https://tempo.example/trace/' }, /option "dashboard\.traceUrlTemplate" must be a URL containing "\{traceId\}"/],
      [{ traceUrlTemplate: 'javascript:alert({traceId})' }, /option "dashboard\.traceUrlTemplate" must be an http\(s\) URL/],
      [{ refreshMs: 10 }, /option "dashboard\.refreshMs" must be at least 250/],
      [{ logBufferSize: -1 }, /option "dashboard\.logBufferSize"/],
      [{ enabled: 'yes' }, /option "dashboard\.enabled" must be a boolean/],
      [{ theme: 'dark' }, /unknown option "dashboard\.theme"/],
    ];
    for (const [dashboard, re] of bad) {
      assert.throws(() => createObservability({ dashboard: dashboard as never, system: { enabled: false } }), (e: Error) => re.test(e.message));
    }
  });
});
