import assert from 'node:assert/strict';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import connect from 'connect';
import express5 from 'express';
import { createObservability, serverOptions } from '../lib';
import { labelValues, samples } from './support/exposition';
import { listen, request } from './support/http';
import { buildApp, EXERCISED_ROUTES, EXPRESS_MAJORS, exercise, fastProperties, sameHiddenClass, type ExpressLike } from './support/express-shapes';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * Two requests held at the same point of one route handler, compared there; answers whether their req
 * and res share hidden classes, on a server built with `serverOptions(app)` or on a plain one.
 */
async function twoConcurrentRequests(withClasses: boolean): Promise<{ req: boolean; res: boolean }> {
  const same = sameHiddenClass();
  const app = express5();
  const held: Array<[express5.Request, express5.Response]> = [];
  let verdict: { req: boolean; res: boolean } | undefined;
  app.get('/users/:id', (req, res) => {
    held.push([req, res]);
    if (held.length < 2) return;
    const [[r1, s1], [r2, s2]] = held as [[express5.Request, express5.Response], [express5.Request, express5.Response]];
    verdict = { req: same(r1, r2), res: same(s1, s2) };
    for (const [, s] of held) s.json({ ok: true });
  });
  const srv = await listen(app as unknown as RequestListener, withClasses ? serverOptions(app) : undefined);
  try {
    const [a, b] = await Promise.all([request(srv.url, '/users/1'), request(srv.url, '/users/2')]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
  } finally {
    await srv.close();
  }
  assert.ok(verdict !== undefined, 'both requests reached the handler');
  return verdict;
}

/**
 * Request/response classes on the app's prototypes whose constructors only call Node's: what
 * serverOptions built before it reserved room for properties (the control of the test below).
 */
function roomlessOptions(app: express5.Express): http.ServerOptions {
  const initReq = http.IncomingMessage as unknown as (this: object, ...args: unknown[]) => void;
  const initRes = http.ServerResponse as unknown as (this: object, ...args: unknown[]) => void;
  function Req(this: object, ...args: unknown[]): void {
    initReq.apply(this, args);
  }
  Req.prototype = app.request;
  function Res(this: object, ...args: unknown[]): void {
    initRes.apply(this, args);
  }
  Res.prototype = app.response;
  return { IncomingMessage: Req as unknown as typeof http.IncomingMessage, ServerResponse: Res as unknown as typeof http.ServerResponse };
}

/**
 * Whether req and res still have fast (non-dictionary) properties where a route handler sees them,
 * behind a `use()` middleware and body parsing, on the 30th of 30 requests (past V8's slack tracking).
 */
async function propertiesStayFast(express: ExpressLike, options: (app: express5.Express) => http.ServerOptions): Promise<{ req: boolean; res: boolean }> {
  const fast = fastProperties();
  const app = express();
  let last: { req: boolean; res: boolean } | undefined;
  app.use((_req, res, next) => {
    res.locals.seen = true;
    next();
  });
  app.post('/users/:id', express.json(), (req, res) => {
    last = { req: fast(req), res: fast(res) };
    res.json({ id: req.params.id, body: req.body as unknown });
  });
  const srv = await listen(app as unknown as RequestListener, options(app));
  try {
    for (let i = 0; i < 30; i++) {
      const r = await request(srv.url, `/users/${i}?q=${i}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { id: String(i), body: { a: 1 } });
    }
  } finally {
    await srv.close();
  }
  assert.ok(last !== undefined, 'the handler ran');
  return last;
}

describe('serverOptions(app) / obs.createServer(app): requests built on the Express app prototypes', () => {
  for (const [major, express] of EXPRESS_MAJORS) {
    it(`Express ${major}: obs.createServer(app) serves, measures and behaves like http.createServer(app)`, async () => {
      const obs = createObservability({ serviceName: `classes-${major}`, logging: { stdout: false }, system: { enabled: false } });
      const app = buildApp(express, obs);
      app.use(obs.router);
      const server = obs.createServer(app as unknown as RequestListener, { keepAliveTimeout: 1234 });
      assert.equal(server.keepAliveTimeout, 1234, 'http.createServer options pass through');
      const { url: base, close } = await listen(server);
      try {
        await exercise(base);
        const m = await request(base, '/metrics');
        assert.deepEqual(labelValues(m.body, 'http_server_request_duration_seconds_count', 'route'), EXERCISED_ROUTES);
        assert.equal(samples(m.body, 'http_server_request_duration_seconds_count', { route: '/echo', method: 'POST', status_code: '201' })[0]?.value, 1);
        const names = obs.tracing.recentTraces({ limit: 20 }).map((t) => t.name);
        assert.ok(names.includes('GET /users/:id'), `span named after the template: ${names.join(', ')}`);
      } finally {
        await close();
        await obs.shutdown();
      }
    });
  }

  it('obs.createServer(obs.wrap(app)) finds the app behind its own wrapper', async () => {
    const obs = createObservability({ serviceName: 'classes-wrap', logging: { stdout: false }, system: { enabled: false } });
    const app = buildApp(express5, undefined);
    const server = obs.createServer(obs.wrap(app as unknown as RequestListener, { endpoints: true }));
    const { url: base, close } = await listen(server);
    try {
      await exercise(base);
      const m = await request(base, '/metrics');
      assert.equal(m.status, 200);
      assert.equal(samples(m.body, 'http_server_request_duration_seconds_count', { route: '/users/:id', status_code: '200' })[0]?.value, 1);
    } finally {
      await close();
      await obs.shutdown();
    }
  });

  it('gives every request one hidden class (Express alone gives each its own before Node 24)', async () => {
    const withClasses = await twoConcurrentRequests(true);
    assert.deepEqual(withClasses, { req: true, res: true }, 'serverOptions(app): one hidden class for req, one for res');
    // Why the option exists: up to Node 22, Object.setPrototypeOf(req, app.request) per request leaves
    // V8 a map per object. From Node 24 on V8 shares one map across re-prototyped objects, so both agree.
    const plain = await twoConcurrentRequests(false);
    const shared = NODE_MAJOR >= 24;
    assert.deepEqual(plain, { req: shared, res: shared }, `http.createServer(app) on Node ${NODE_MAJOR}: ${shared ? 'one hidden class' : 'a hidden class per request'}`);
  });

  for (const [major, express] of EXPRESS_MAJORS) {
    it(`Express ${major}: keeps req and res out of dictionary mode behind middleware and body parsing`, async () => {
      assert.deepEqual(await propertiesStayFast(express, (app) => serverOptions(app)), { req: true, res: true }, 'serverOptions(app)');
      // The control: constructors without the reserved room leave Node's own constructor to turn every
      // response into a dictionary (too many properties outside the object, then a symbol-keyed add).
      const control = await propertiesStayFast(express, roomlessOptions);
      assert.equal(control.res, false, 'without the room, every response becomes a dictionary');
    });
  }

  it('leaves Connect apps and plain listeners on Node’s classes', async () => {
    const obs = createObservability({ serviceName: 'classes-connect', logging: { stdout: false }, system: { enabled: false } });
    const app = connect();
    app.use(obs.middleware as connect.NextHandleFunction);
    app.use('/hello', (_req: IncomingMessage, res: ServerResponse) => {
      res.end('hi');
    });
    assert.deepEqual(serverOptions(app, { keepAliveTimeout: 5 }), { keepAliveTimeout: 5 });
    const plain: RequestListener = (_req, res) => res.end('plain');
    assert.deepEqual(serverOptions(plain), {});
    const server = obs.createServer(app as unknown as RequestListener);
    const { url: base, close } = await listen(server);
    try {
      const r = await request(base, '/hello/7');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hi');
      assert.deepEqual(labelValues(await obs.registry.metrics(), 'http_server_request_duration_seconds_count', 'route'), ['/hello/:id']);
    } finally {
      await close();
      await obs.shutdown();
    }
  });

  it('keeps the caller’s options, copies them, and rejects bad arguments naming them', async () => {
    const app = express5();
    const given: http.ServerOptions = { keepAliveTimeout: 7, requestTimeout: 9 };
    const opts = serverOptions(app, given);
    assert.equal(opts.keepAliveTimeout, 7);
    assert.equal(opts.requestTimeout, 9);
    assert.equal(typeof opts.IncomingMessage, 'function');
    assert.equal(typeof opts.ServerResponse, 'function');
    assert.deepEqual(given, { keepAliveTimeout: 7, requestTimeout: 9 }, 'the argument is not modified');
    class Mine extends http.IncomingMessage {}
    assert.throws(() => serverOptions(app, { IncomingMessage: Mine }), /"serverOptions\(options\)\.IncomingMessage" must be left unset/);
    assert.throws(() => serverOptions(null as unknown as object), /"serverOptions\(app\)" must be an Express app or request listener, got null/);
    assert.throws(() => serverOptions(app, 'fast' as unknown as http.ServerOptions), /"serverOptions\(options\)" must be an http\.createServer options object/);
    const obs = createObservability({ logging: { stdout: false }, system: { enabled: false } });
    try {
      assert.throws(() => obs.createServer('app' as unknown as RequestListener), /"createServer\(listener\)" must be an Express app or request listener/);
    } finally {
      await obs.shutdown();
    }
  });
});
