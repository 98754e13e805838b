import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { launchBrowser, type HeadlessBrowser } from './support/browser';
import { listen, request, type Listening } from './support/http';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const IMG = '<img src=x onerror=window.__xss=1;alert(1)>';
const SCRIPT = '"><script>window.__xss=2;alert(2)</script>';
const JS_URL = 'javascript:window.__xss=3;alert(3)';

interface SpanJson {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  durationMs: number;
  startMs: number;
  depth: number;
}

describe('dashboard trace viewer (headless Chromium)', () => {
  let obs: Observability;
  let server: Listening;
  let chrome: HeadlessBrowser;

  before(async () => {
    obs = createObservability({
      serviceName: 'viewer-test',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { level: 'debug', stdout: false },
      dashboard: { traceUrlTemplate: 'https://tempo.example/trace/{traceId}' },
    });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.get('/orders/:orderId', async (req, res) => {
      obs.logger.info('loading order', { orderId: req.params.orderId });
      await obs.tracing.withSpan('db.query orders', async () => {
        await sleep(30);
        obs.tracing.addEvent('rows fetched', { rows: 1 });
      }, { kind: 'client', attributes: { 'db.system': 'postgresql' } });
      obs.logger.warn('order loaded slowly', { orderId: req.params.orderId });
      res.json({ orderId: req.params.orderId });
    });
    app.get('/slow', async (_req, res) => {
      await sleep(350);
      res.json({ slow: true });
    });
    app.get('/echo', (req, res) => {
      obs.tracing.setAttribute('user.payload', SCRIPT);
      obs.tracing.setAttribute('user.link', JS_URL);
      obs.tracing.addEvent(IMG, { [IMG]: SCRIPT });
      obs.logger.error(IMG, { payload: SCRIPT, trace_hint: JS_URL });
      res.status(500).json({ ok: false });
    });
    app.get('/throw', () => {
      throw new Error(`${IMG} ${SCRIPT}`);
    });
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

  it('opens a trace from the list: child span nested under the SERVER span, durations, log lines', async () => {
    const r = await request(server.url, '/orders/77');
    assert.equal(r.status, 200);
    const { page, problems } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    const row = page.locator('#traces tbody tr', { hasText: 'GET /orders/:orderId' }).first();
    await row.waitFor();
    const traceId = await row.getAttribute('data-trace-id');
    assert.match(traceId ?? '', /^[0-9a-f]{32}$/);
    await row.locator('td').first().click();
    await page.locator(`#trace-view[data-loaded="${traceId}"]`).waitFor();
    assert.equal(await page.locator('#trace-id').textContent(), traceId);

    const api = JSON.parse((await request(server.url, `/dashboard/api/traces/${traceId}`)).body) as { spans: SpanJson[] };
    const server0 = api.spans.find((s) => s.kind === 'SERVER') as SpanJson;
    const child = api.spans.find((s) => s.name === 'db.query orders') as SpanJson;
    assert.equal(child.parentSpanId, server0.spanId);

    const rows = await page.locator('#waterfall .span-row').evaluateAll((els) =>
      els.map((e): Record<string, string> => ({
        ...((e as HTMLElement).dataset as Record<string, string>),
        name: e.querySelector('.span-name span')?.textContent ?? '',
        shown: e.querySelector('.span-duration')?.textContent ?? '',
      })),
    );
    assert.equal(rows.length, 2);
    assert.equal(rows[0]?.kind, 'SERVER');
    assert.equal(rows[0]?.depth, '0');
    assert.equal(rows[0]?.name, 'GET /orders/:orderId');
    assert.equal(rows[1]?.name, 'db.query orders');
    assert.equal(rows[1]?.depth, '1');
    assert.equal(rows[1]?.parentSpanId, rows[0]?.spanId);
    assert.equal(Number(rows[0]?.durationMs), server0.durationMs);
    assert.equal(Number(rows[1]?.durationMs), child.durationMs);
    assert.ok(child.durationMs >= 29 && child.durationMs <= server0.durationMs, `child ${child.durationMs} ms within parent ${server0.durationMs} ms`);
    assert.ok(child.startMs >= server0.startMs);
    assert.match(rows[1]?.shown ?? '', /^\d+(\.\d+)? ms$/);
    // The child's bar sits inside the parent's.
    const bars = await page.locator('#waterfall .bar').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
    assert.ok((bars[1] as DOMRect).left >= (bars[0] as DOMRect).left - 1 && (bars[1] as DOMRect).right <= (bars[0] as DOMRect).right + 1);

    const logs = await page.locator('#trace-logs li').allTextContents();
    assert.ok(logs.some((l) => l.includes('loading order')), logs.join('\n'));
    assert.ok(logs.some((l) => l.includes('order loaded slowly')), logs.join('\n'));
    assert.equal(await page.locator('#trace-external').getAttribute('href'), `https://tempo.example/trace/${traceId}`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it("opens a slow bucket's exemplar trace from the route's latency histogram", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(server.url, `/orders/${i}`)).status, 200);
    assert.equal((await request(server.url, '/slow')).status, 200);
    // The bucket that holds the exemplar: (0.25, 0.5] s for a 350 ms request, a later one on a loaded machine.
    const detail = JSON.parse((await request(server.url, '/dashboard/api/routes/detail?method=GET&route=%2Fslow')).body) as {
      le: (number | string)[];
      exemplars: { traceId: string }[][];
    };
    const bucket = detail.exemplars.findIndex((list) => list.length > 0);
    assert.ok(bucket > 0, `an exemplar in a bucket above the first: ${JSON.stringify(detail.exemplars)}`);
    const le = detail.le[bucket] as number | string;
    const lower = Number(detail.le[bucket - 1]) * 1000;
    const upper = le === '+Inf' ? Infinity : Number(le) * 1000;
    assert.ok(upper >= 500, `the exemplar is in a bucket ending at or above 0.5 s (${le})`);
    const { page, problems } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#routes tbody tr[data-route="/slow"]').click();
    const link = page.locator(`#buckets tbody tr[data-le="${String(le)}"] a.exemplar`).first();
    await link.waitFor();
    const traceId = await link.getAttribute('data-trace-id');
    await link.click();
    await page.locator(`#trace-view[data-loaded="${traceId}"]`).waitFor();
    assert.equal(await page.locator('#trace-id').textContent(), traceId);
    const root = page.locator('#waterfall .span-row').first();
    assert.equal(await root.locator('.span-name span').first().textContent(), 'GET /slow');
    const ms = Number(await root.getAttribute('data-duration-ms'));
    assert.ok(ms >= 350 && ms > lower && ms <= upper, `exemplar trace lasted ${ms} ms, inside its bucket (${lower / 1000}, ${String(le)}] s`);
    // The same join as JSON.
    assert.equal(detail.exemplars[bucket]?.[0]?.traceId, traceId);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('renders hostile paths, headers, attributes, events, log fields and exception messages as text', async () => {
    const hostile: { path: string; headers: Record<string, string> }[] = [
      { path: `/${encodeURIComponent(IMG)}`, headers: { 'user-agent': SCRIPT, referer: JS_URL } },
      { path: `/"><script>alert(4)</script>`, headers: { 'user-agent': IMG } },
      { path: '/echo', headers: { 'user-agent': JS_URL } },
      { path: '/throw', headers: {} },
    ];
    for (const h of hostile) await request(server.url, h.path, { headers: h.headers });
    const { page, problems, dialogs } = await chrome.newPage();
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#error-logs li', { hasText: 'onerror' }).first().waitFor();
    // The traces table renders from its own request: wait for the four traces' rows, not just the logs.
    await page.locator('#traces tbody tr').nth(3).waitFor();
    // Open every trace, so every attribute, event and log line gets rendered.
    const ids = await page.locator('#traces tbody tr').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.traceId as string));
    assert.ok(ids.length >= 4);
    const seen: string[] = [];
    for (const id of ids) {
      await page.evaluate((h) => (location.hash = h), `trace=${id}`);
      await page.locator(`#trace-view[data-loaded="${id}"]`).waitFor();
      await page.locator('#waterfall .span-row').first().click();
      seen.push((await page.locator('#trace-view').textContent()) ?? '');
    }
    const all = seen.join('\n');
    for (const payload of [IMG, SCRIPT, JS_URL, '"><script>alert(4)</script>']) assert.ok(all.includes(payload), `rendered as text: ${payload}`);
    const echoId = JSON.parse((await request(server.url, '/dashboard/api/traces?route=%2Fecho')).body)[0].traceId as string;
    await page.evaluate((h) => (location.hash = h), `trace=${echoId}`);
    await page.locator(`#trace-view[data-loaded="${echoId}"]`).waitFor();
    assert.ok((await page.locator('#span-detail').textContent())?.includes(SCRIPT));
    assert.ok((await page.locator('#trace-logs').textContent())?.includes(IMG));
    await sleep(300);
    const dom = await page.evaluate(() => ({
      xss: (window as unknown as { __xss?: number }).__xss,
      imgs: document.querySelectorAll('img').length,
      scripts: Array.from(document.querySelectorAll('script')).map((s) => s.getAttribute('src')),
      jsLinks: Array.from(document.querySelectorAll('a[href]')).filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
      handlers: Array.from(document.querySelectorAll('*')).filter((e) => Array.from(e.attributes).some((a) => /^on/i.test(a.name))).length,
    }));
    assert.deepEqual(dom, { xss: undefined, imgs: 0, scripts: ['dashboard/assets/dashboard.js'], jsLinks: 0, handlers: 0 });
    assert.deepEqual(dialogs, []);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
