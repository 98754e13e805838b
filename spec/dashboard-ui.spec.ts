import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, type HeadlessBrowser, type WatchedPage } from './support/browser';
import { ROOT, startDemo, type DemoProcess } from './support/demo';
import { pool, request, waitFor } from './support/http';

interface HealthJson {
  status: string;
  checks?: Record<string, { status: string }[]>;
}

const ORDER = { pass: 0, warn: 1, fail: 2 } as const;
function worst(list: { status: string }[]): string {
  return list.reduce((w, e) => ((ORDER[e.status as keyof typeof ORDER] ?? 2) > ORDER[w as keyof typeof ORDER] ? e.status : w), 'pass');
}

describe('dashboard page on the demo app (headless Chromium)', () => {
  let demo: DemoProcess;
  let chrome: HeadlessBrowser;
  let watched: WatchedPage;

  before(async () => {
    demo = await startDemo();
    chrome = await launchBrowser();
    watched = await chrome.newPage();
  });

  after(async () => {
    await chrome?.close();
    await demo?.stop();
  });

  it('serves the page with a strict CSP and nosniff, and prints its URL', async () => {
    assert.match(demo.output(), new RegExp(`dashboard ${demo.url.replace(/[.]/g, '\\.')}/dashboard`));
    const r = await request(demo.url, '/dashboard');
    assert.equal(r.status, 200);
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.doesNotMatch(r.body, /<script>|\sstyle=|\son[a-z]+\s*=/i, 'no inline script, style attribute or handler in the page');
    for (const asset of ['dashboard.js', 'dom.js', 'trace-view.js', 'charts.js', 'dashboard.css']) {
      const a = await request(demo.url, `/dashboard/assets/${asset}`);
      assert.equal(a.status, 200, asset);
      assert.equal(a.headers['x-content-type-options'], 'nosniff');
    }
    assert.match((await request(demo.url, '/dashboard/assets/..%2F..%2Fpackage.json')).body, /not found/);
  });

  it('loads without console errors or CSP violations, shows traffic, health that matches /health, and turns red without a reload', async () => {
    const { page, problems } = watched;
    await page.goto(`${demo.url}/dashboard`);
    await page.locator('#conn-text', { hasText: 'live' }).waitFor();
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    const paths = [
      ...Array.from({ length: 30 }, (_, i) => `/users/${i}`),
      ...Array.from({ length: 12 }, (_, i) => `/api/orders/${i + 1}`),
      '/error', '/error', '/slow', '/slow', '/shops/3/items/9',
    ];
    await pool(paths, 6, (p) => request(demo.url, p));

    for (const route of ['/users/:id', '/api/orders/:orderId']) {
      const row = page.locator(`#routes tbody tr[data-route="${route}"]`);
      await row.waitFor();
      await waitFor(async () => Number(await row.locator('td.rate').textContent()) > 0, 10_000, 100, `${route} rate > 0`);
    }
    const errRow = page.locator('#routes tbody tr[data-route="/error"]');
    assert.equal(await errRow.locator('td.errorRatio').textContent(), '100.0 %');

    // The health panel says what /health says (overall and per check).
    await waitFor(async () => {
      const health = JSON.parse((await request(demo.url, '/health')).body) as HealthJson;
      const shown = await page.locator('#health-checks li.health-check').evaluateAll((els) =>
        Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.name, (e as HTMLElement).dataset.status])),
      );
      const expected = Object.fromEntries(Object.entries(health.checks ?? {}).map(([k, v]) => [k, worst(v)]));
      const overall = await page.locator('#health-overall').getAttribute('data-status');
      return overall === health.status && JSON.stringify(shown) === JSON.stringify(expected) && 'fake-db:connection' in expected;
    }, 10_000, 250, 'health panel to match /health');

    assert.equal((await request(demo.url, '/demo/dependency/down', { method: 'POST' })).status, 200);
    const dep = page.locator('#health-checks li.health-check[data-name="fake-db:connection"]');
    await page.locator('#health-checks li.health-check[data-name="fake-db:connection"][data-status="fail"]').waitFor({ timeout: 10_000 });
    await page.locator('#health-overall[data-status="fail"]').waitFor();
    const red = await dep.locator('.badge').evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.equal(red, 'rgb(209, 52, 47)');
    assert.equal(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'no reload');

    assert.equal((await request(demo.url, '/demo/dependency/up', { method: 'POST' })).status, 200);
    await page.locator('#health-checks li.health-check[data-name="fake-db:connection"][data-status="pass"]').waitFor({ timeout: 10_000 });
    await page.locator('#traces tbody tr').first().waitFor();

    // Request charts: points after traffic (two 10 s buckets with requests: 3 latency lines each).
    let trickle = true;
    const driver = (async () => {
      for (let i = 0; trickle; i++) {
        await request(demo.url, i % 7 === 6 ? '/error' : i % 11 === 5 ? '/slow' : `/users/${i}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      const points = async (id: string): Promise<number> => Number(await page.locator(`#${id} svg`).getAttribute('data-points'));
      await waitFor(async () => (await points('chart-latency')) >= 6 && (await points('chart-errors')) >= 2, 40_000, 250, 'request charts with points');
      assert.ok((await points('chart-rate')) >= 2);
      assert.match(String(await page.locator('#charts-window').textContent()), /^all routes, last 15 min, one point per 10 s$/);
    } finally {
      trickle = false;
      await driver;
    }

    // The system panel keeps what people act on; everything else stays in /metrics.
    const sparks = await page.locator('#system .spark').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id ?? ''));
    assert.deepEqual(sparks.filter((id) => !id.startsWith('disk{')), ['cpu', 'host-cpu', 'rss', 'host-memory', 'eld']);
    assert.ok(sparks.includes('disk{/}') || sparks.some((id) => id.startsWith('disk{/')), `a disk per mount: ${sparks.join(', ')}`);

    await page.locator('#routes thead th[data-sort="p99"]').click();
    await page.locator('#routes tbody tr[data-route="/slow"]').click();
    await page.locator('#buckets tbody tr').first().waitFor();
    await page.selectOption('#chart-route', '');
    await page.locator('#charts-window', { hasText: /^all routes/ }).waitFor();
    // The README's screenshot is refreshed on request (UPDATE_SCREENSHOT=1); every run keeps its own in spec/.artifacts.
    const shot = process.env.UPDATE_SCREENSHOT === '1' ? path.join(ROOT, 'docs', 'dashboard.png') : path.join(ROOT, 'spec', '.artifacts', 'dashboard.png');
    mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual(problems, []);
  });

  it('keeps working when the server restarts (reconnects on its own)', async () => {
    const { page } = watched;
    const port = demo.port;
    assert.equal(await demo.stop(), 0);
    await page.locator('#conn-dot.down').waitFor({ timeout: 15_000 });
    demo = await startDemo({ PORT: String(port) });
    await page.locator('#conn-dot.live').waitFor({ timeout: 15_000 });
    await request(demo.url, '/users/1');
    await page.locator('#routes tbody tr[data-route="/users/:id"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'no reload');
  });
});
