// The dashboard's request charts: GET dashboard/api/charts (per-bucket rate, error ratio, p50/p95/p99,
// overall and per route, from the duration histogram the instance already keeps) and the charts the
// page draws from it in headless Chromium, with a route name that is an HTML payload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { launchBrowser, type HeadlessBrowser } from './support/browser';
import { listen, pool, request, waitFor, type Listening } from './support/http';

interface Point { t: number; count: number; rate: number; errorRatio: number | null; p50: number | null; p95: number | null; p99: number | null }
interface Series { resolutionMs: number; windowMs: number; method?: string; route?: string; points: Point[] }

const HOSTILE = '/<svg/onload=window.__pwned=1>';

describe('dashboard request charts', () => {
  let obs: Observability;
  let server: Listening;
  let chrome: HeadlessBrowser;

  before(async () => {
    obs = createObservability({
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false },
      dashboard: { sampleIntervalMs: 100, chartResolutionMs: 1000, chartWindowMs: 60_000, refreshMs: 250 },
    });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.get('/ok', (_req, res) => res.json({ ok: true }));
    app.get('/wait', (_req, res) => void setTimeout(() => res.json({ waited: 30 }), 30));
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get(HOSTILE, (_req, res) => res.json({ hostile: true }));
    app.use(obs.errorHandler);
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: 'internal' });
    });
    server = await listen(app);
    chrome = await launchBrowser();
  });
  after(async () => {
    await chrome?.close();
    await server?.close();
    await obs?.shutdown();
  });

  const charts = async (query = ''): Promise<Series> => {
    const r = await request(server.url, `/dashboard/api/charts${query}`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    return JSON.parse(r.body) as Series;
  };
  const total = (s: Series): number => s.points.reduce((a, p) => a + p.count, 0);
  const route = (method: string, path: string): string => `?method=${method}&route=${encodeURIComponent(path)}`;

  it('GET dashboard/api/charts: requests per bucket with rate, error ratio and quantiles, overall and per route', async () => {
    // How long each /wait took as the client saw it: the server measured no more than that.
    const waits: number[] = [];
    await pool([...Array(6).fill('/ok'), '/boom', '/boom', ...Array(4).fill('/wait')] as string[], 3, async (p) => {
      const t0 = performance.now();
      const r = await request(server.url, p);
      if (p === '/wait') waits.push((performance.now() - t0) / 1000);
      return r;
    });
    // The buckets that hold the traffic close at the next 1 s boundary.
    const all = await waitFor(async () => {
      const s = await charts();
      return total(s) === 12 ? s : undefined;
    }, 10_000, 200, 'all 12 requests in closed buckets');
    assert.equal(all.resolutionMs, 1000);
    assert.equal(all.windowMs, 60_000);
    assert.equal(all.method, undefined);
    const ts = all.points.map((p) => p.t);
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b), 'oldest first');
    // A point's t is the time of the sample that closed its bucket, which a busy event loop can delay:
    // what holds is that no two points close the same 1 s bucket.
    const buckets = ts.map((t) => Math.floor(t / 1000));
    for (let i = 1; i < buckets.length; i++) assert.ok((buckets[i] as number) > (buckets[i - 1] as number), `one point per bucket: ${ts.join(', ')}`);
    const errors = all.points.reduce((a, p) => a + p.count * (p.errorRatio ?? 0), 0);
    assert.equal(Math.round(errors), 2);
    for (const p of all.points) {
      if (p.count === 0) assert.deepEqual([p.rate, p.errorRatio, p.p50, p.p99], [0, null, null, null]);
      else assert.ok(p.rate > 0 && p.p50 !== null && p.p95 !== null && p.p99 !== null && p.p50 <= p.p95 && p.p95 <= p.p99);
    }

    const boom = await charts(route('GET', '/boom'));
    assert.deepEqual([boom.method, boom.route, total(boom)], ['GET', '/boom', 2]);
    assert.ok(boom.points.filter((p) => p.count > 0).every((p) => p.errorRatio === 1));
    const ok = await charts(route('GET', '/ok'));
    assert.equal(total(ok), 6);
    assert.ok(ok.points.filter((p) => p.count > 0).every((p) => p.errorRatio === 0));
    const wait = await charts(route('GET', '/wait'));
    assert.equal(total(wait), 4);
    // Each /wait slept 30 ms, so its p50 lies in the 25 ms bucket or above, and no higher than the upper bound
    // of the bucket holding the slowest /wait (the quantile interpolates inside a bucket): 100 ms on an idle
    // machine, more on a loaded one.
    const slowest = Math.max(...waits);
    const bound = obs.options.metrics.buckets.find((b) => b >= slowest) ?? Infinity;
    for (const p of wait.points.filter((x) => x.count > 0)) {
      assert.ok((p.p50 as number) >= 0.025 && (p.p50 as number) <= bound, `p50 ${p.p50} between 25 ms and ${bound * 1000} ms (slowest /wait seen by the client: ${Math.round(slowest * 1000)} ms)`);
    }

    const none = await charts(route('GET', '/never'));
    assert.ok(none.points.length > 0 && none.points.every((p) => p.count === 0 && p.p99 === null));
    assert.equal((await request(server.url, '/dashboard/api/charts?method=GET')).status, 400);
  });

  it('draws the charts in Chromium without CSP violations; the route picker shows an HTML route name as text', async () => {
    const { page, problems, dialogs } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#conn-text', { hasText: 'live' }).waitFor();
    await pool([...Array(5).fill('/ok'), '/boom', HOSTILE, HOSTILE], 2, (p) => request(server.url, p));
    const points = async (id: string): Promise<number> => Number(await page.locator(`#${id} svg`).getAttribute('data-points'));
    await waitFor(async () => (await points('chart-rate')) > 0 && (await points('chart-latency')) > 0 && (await points('chart-errors')) > 0, 15_000, 200, 'charts with points');
    assert.ok((await page.locator('#chart-rate svg path.line').count()) + (await page.locator('#chart-rate svg circle.dot').count()) > 0);

    await page.selectOption('#chart-route', `GET ${HOSTILE}`);
    await waitFor(async () => (await page.locator('#charts-window').textContent())?.startsWith(`GET ${HOSTILE},`), 10_000, 100, 'caption names the route');
    await waitFor(async () => (await points('chart-rate')) > 0, 10_000, 100, 'points of the selected route');
    assert.equal(await page.locator('#charts-card svg[onload]').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);

    // Clicking a row of the route table selects that route for the charts.
    await page.locator('#routes tbody tr[data-route="/boom"]').click();
    await page.locator('#chart-errors .legend .last', { hasText: '100.0 %' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#chart-route').inputValue(), 'GET /boom');
    assert.deepEqual(problems, []);
    assert.deepEqual(dialogs, []);
    await page.close();
  });

  it('validates the chart options, naming the option', () => {
    const bad: [unknown, RegExp][] = [
      [{ chartResolutionMs: 500 }, /option "dashboard\.chartResolutionMs" must be at least 1000/],
      [{ sampleIntervalMs: 20_000, chartResolutionMs: 10_000 }, /option "dashboard\.chartResolutionMs" must be at least dashboard\.sampleIntervalMs \(20000\)/],
      [{ chartWindowMs: 1000 }, /option "dashboard\.chartWindowMs" must be at least 60000/],
      [{ sampleIntervalMs: 1000, chartResolutionMs: 1000, chartWindowMs: 3_600_000 }, /option "dashboard\.chartWindowMs" must be at most 2000 × dashboard\.chartResolutionMs/],
      [{ chartResolutionMs: 'fast' }, /option "dashboard\.chartResolutionMs" must be a number/],
    ];
    for (const [dashboard, re] of bad) {
      assert.throws(() => createObservability({ dashboard: dashboard as never, system: { enabled: false } }), (e: Error) => re.test(e.message), JSON.stringify(dashboard));
    }
  });
});
