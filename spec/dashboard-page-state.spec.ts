// What the dashboard page says about its own windows, and what it keeps listed, in headless Chromium:
// the labels follow dashboard.rateWindowMs / chartWindowMs / chartResolutionMs exactly, and the traces
// behind an alert stay listed across the page's refreshes until a filter changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { launchBrowser, type HeadlessBrowser } from './support/browser';
import { listen, request, type Listening } from './support/http';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('dashboard page state (headless Chromium)', () => {
  let obs: Observability;
  let server: Listening;
  let chrome: HeadlessBrowser;

  before(async () => {
    obs = createObservability({
      serviceName: 'page-state',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false },
      views: true,
      // The traces behind an alert are those of its route from rateWindowMs before it became active.
      dashboard: { rateWindowMs: 1000, chartWindowMs: 90_000, chartResolutionMs: 1500, sampleIntervalMs: 500, refreshMs: 300 },
      alerts: { interval: '1h', rules: [{ name: 'FailErrors', kind: 'errorRatio', route: '/fail', threshold: 0.1, window: '1m' }] },
    });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.get('/fast', (_req, res) => void res.json({ ok: true }));
    app.get('/fail', (_req, res) => void res.status(500).json({ ok: false }));
    server = await listen(app);
    chrome = await launchBrowser();
  });

  after(async () => {
    await chrome?.close();
    await server?.close();
    await obs?.shutdown();
  });

  it('labels the route table, the charts and their axis with the configured windows, not rounded ones', async () => {
    await request(server.url, '/fast');
    const { page, problems } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#routes-window', { hasText: 'over the last' }).waitFor();
    assert.equal(await page.locator('#routes-window').textContent(), 'rate, errors and quantiles over the last 1 s');
    await page.locator('#charts-window', { hasText: 'last' }).waitFor();
    assert.equal(await page.locator('#charts-window').textContent(), 'all routes, last 1.5 min, one point per 1.5 s');
    const axis = await page.locator('#charts-card text.axis').allTextContents();
    assert.ok(axis.includes('−1.5 min') && axis.includes('−45 s'), axis.join(' | '));
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a page in a hidden tab stops polling, and polls again as soon as it is shown', async () => {
    const { page, problems } = await chrome.newPage();
    const summaries: number[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/dashboard/api/summary')) summaries.push(Date.now());
    });
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#conn-text', { hasText: 'live' }).waitFor();
    // A string, not a function: the test's compiler would wrap a function with helpers the page lacks.
    const visibility = (hidden: boolean): Promise<void> =>
      page.evaluate(`
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${hidden ? 'hidden' : 'visible'}' });
        document.dispatchEvent(new Event('visibilitychange'));
      `);
    await visibility(true);
    await page.locator('#conn-text', { hasText: 'paused' }).waitFor();
    const atPause = summaries.length;
    await sleep(1500); // five refresh periods (refreshMs 300)
    assert.equal(summaries.length, atPause, 'no summary asked for while hidden');
    await visibility(false);
    await page.locator('#conn-text', { hasText: 'live' }).waitFor();
    assert.ok(summaries.length > atPause, 'polled again once shown');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it("an alert's traces stay listed across refreshes until a filter changes", async () => {
    // Failures of the same route long before the alert: the route filter alone would list them too.
    for (let i = 0; i < 4; i++) await request(server.url, '/fail');
    await sleep(2500);
    for (let i = 0; i < 3; i++) await request(server.url, '/fail');
    await obs.alerts.evaluate();
    assert.equal(obs.alerts.status().find((r) => r.name === 'FailErrors')?.state, 'firing');
    const { page, problems } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    const link = page.locator('#alerts-active a.alert-traces').first();
    await link.waitFor();
    await link.click();
    await page.locator('#traces-window', { hasText: 'FailErrors' }).waitFor();
    const names = async (): Promise<string[]> => page.locator('#traces tbody tr td:nth-child(3)').allTextContents();
    await page.locator('#traces tbody tr').first().waitFor();
    assert.deepEqual([...new Set(await names())], ['GET /fail']);
    // Several refreshes later (refreshMs 300): still the alert's traces.
    await sleep(1500);
    assert.deepEqual([...new Set(await names())], ['GET /fail']);
    assert.equal((await names()).length, 3);
    // A filter change lists by the filters again: every failure of the route, the older ones too.
    await page.locator('#trace-status').selectOption('5xx');
    await page.locator('#traces tbody tr:nth-child(7)').waitFor();
    assert.deepEqual([...new Set(await names())], ['GET /fail']);
    assert.equal(await page.locator('#traces-window').textContent(), '');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
