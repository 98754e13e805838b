// "Observe, don't alter": the Quick start set-up (app.use(obs.middleware), app.use(obs.router),
// app.listen(), obs.attachShutdown(server)) leaves the server the application owns as it found it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createObservability } from '../lib';
import { buildApp, EXERCISED_ROUTES, EXPRESS_MAJORS, exercise } from './support/express-shapes';
import { request } from './support/http';

/** Every own slot of `server` (string and symbol keys) that holds a function: classes, callbacks, listeners' holders. */
function functionSlots(server: Server): Map<string | symbol, unknown> {
  const out = new Map<string | symbol, unknown>();
  for (const key of Reflect.ownKeys(server)) {
    const value = (server as unknown as Record<string | symbol, unknown>)[key];
    if (typeof value === 'function') out.set(key, value);
  }
  return out;
}

for (const [major, express] of EXPRESS_MAJORS) {
  describe(`Express ${major}: the default set-up leaves the application's server alone`, () => {
   for (const withShutdown of [true, false]) {
    it(`${withShutdown ? 'Quick start (with attachShutdown)' : 'bare app.listen()'}: no function slot of the server (its request/response classes among them) and no request listener changes while it serves`, async () => {
      const obs = createObservability({ serviceName: `observe-${major}`, logging: { stdout: false }, system: { enabled: false } });
      const app = buildApp(express, obs);
      app.use(obs.router);
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const handle = withShutdown ? obs.attachShutdown(server, { signals: [] }) : undefined;
      const before = functionSlots(server);
      const listenersBefore = server.listeners('request');
      assert.ok(
        [...before.keys()].some((k) => typeof k === 'symbol' && k.description === 'IncomingMessage'),
        'Node keeps its request class in a symbol slot of the server (what the test watches)',
      );
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        // Several rounds on keep-alive and fresh connections, every exercised route, the endpoints too.
        for (let round = 0; round < 3; round++) {
          await exercise(base);
          await Promise.all(EXERCISED_ROUTES.map((_, i) => request(base, `/users/${i}`)));
          assert.equal((await request(base, '/metrics')).status, 200);
        }
        const after = functionSlots(server);
        assert.deepEqual([...after.keys()], [...before.keys()], 'no slot added or removed');
        for (const [key, value] of before) assert.equal(after.get(key), value, `slot ${String(key)} unchanged`);
        assert.deepEqual(server.listeners('request'), listenersBefore, 'request listeners unchanged');
      } finally {
        handle?.detach();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await obs.shutdown();
      }
    });
   }
  });
}

describe("the application's registry (`registry` option) writes as it did before /metrics was scraped", () => {
  it('a text registry keeps its content type and its counters’ `_total` through text and OpenMetrics scrapes', async () => {
    const { Counter, Registry } = await import('prom-client');
    const theirs = new Registry();
    const jobs = new Counter({ name: 'app_jobs_total', help: 'Jobs done.', registers: [theirs] });
    jobs.inc();
    const obs = createObservability({ registry: theirs, logging: { stdout: false }, system: { enabled: false }, tracing: { enabled: false } });
    const app = (await import('express')).default();
    app.use(obs.middleware);
    app.use(obs.router);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0', 'text/plain', 'application/openmetrics-text']) {
        const scraped = await request(base, '/metrics', { headers: { accept } });
        assert.equal(scraped.status, 200);
        assert.equal(theirs.contentType, Registry.PROMETHEUS_CONTENT_TYPE, `after a scrape asking for ${accept}`);
        const own = await theirs.metrics();
        assert.match(own, /^app_jobs_total 1$/m, `their own exposition after a scrape asking for ${accept}`);
        assert.doesNotMatch(own, /^# EOF/m);
      }
      const om = await request(base, '/metrics', { headers: { accept: 'application/openmetrics-text' } });
      assert.match(om.body, /^app_jobs_total 1$/m, 'OpenMetrics scrape: the counter sample keeps its _total');
      assert.match(om.body, /^# TYPE app_jobs counter$/m, 'OpenMetrics scrape: the family is named without _total');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await obs.shutdown();
    }
  });
});

describe("the application's request objects keep their own keys and their own req.log", () => {
  it('obs.wrap(app), Connect with obs.router (a % in the URL too): no enumerable key is added; a req.log set before the middleware stays', async () => {
    const { default: express } = await import('express');
    const { default: connect } = await import('connect');
    const obs = createObservability({ logging: { stdout: false }, system: { enabled: false }, tracing: { enabled: false } });
    const seen: Record<string, string[]> = {};
    const keys = (name: string) => (req: { url?: string }, res: { end: (s: string) => void }) => {
      seen[name] = Object.keys(req).filter((k) => !k.startsWith('_'));
      res.end('ok');
    };
    // Express behind obs.wrap(): its requests enter before Express gives them the app's prototype.
    const wrapped = express();
    wrapped.get('/w', (req, res) => keys('wrap')(req, res));
    const bare = express();
    bare.get('/w', (req, res) => keys('bare')(req, res));
    // Connect with the router mounted, and a logger of its own set before the middleware (as pino-http does).
    const app = connect();
    const ownLog = { own: true };
    app.use((req: http.IncomingMessage, _res: http.ServerResponse, next: () => void) => {
      (req as { log?: unknown }).log = ownLog;
      next();
    });
    app.use(obs.middleware as never);
    app.use(obs.router as never);
    app.use((req: http.IncomingMessage, res: http.ServerResponse) => {
      seen[`connect ${req.url}`] = Object.keys(req).filter((k) => !k.startsWith('_'));
      res.end((req as { log?: unknown }).log === ownLog ? 'own log' : 'replaced');
    });
    const plain = connect();
    plain.use((req: http.IncomingMessage, res: http.ServerResponse) => {
      seen[`plain ${req.url}`] = Object.keys(req).filter((k) => !k.startsWith('_'));
      res.end('ok');
    });
    const servers = [http.createServer(obs.wrap(wrapped)), http.createServer(bare), http.createServer(app as never), http.createServer(plain as never)];
    for (const s of servers) {
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
    }
    const base = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    try {
      await request(base[0] as string, '/w');
      await request(base[1] as string, '/w');
      assert.deepEqual(seen.wrap, seen.bare, 'obs.wrap(app): the same keys as without the package');
      for (const url of ['/a?q=%20', '/b%20c']) {
        const r = await request(base[2] as string, url);
        assert.equal(r.body, 'own log', `${url}: the application's req.log stays`);
        await request(base[3] as string, url);
        assert.deepEqual(seen[`connect ${url}`], [...(seen[`plain ${url}`] ?? []), 'log'], `${url}: only the application's own log was added`);
      }
    } finally {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await obs.shutdown();
    }
  });
});
