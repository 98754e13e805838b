import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import connect from 'connect';
import express5 from 'express';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { labelValues, samples } from './support/exposition';
import { buildApp, EXERCISED_ROUTES, EXPRESS_MAJORS, exercise, sameHiddenClass, type ExpressLike } from './support/express-shapes';
import { request } from './support/http';
import { requireTool } from './support/tools';

const QUIET: ObservabilityOptions = { logging: { stdout: false }, system: { enabled: false } };

/** The classes a Node HTTP server builds its requests and responses from (the slots `http.createServer` options fill). */
function serverClassesOf(server: Server): { req: unknown; res: unknown } {
  const slots = Object.getOwnPropertySymbols(server);
  const slot = (name: string): unknown => {
    const s = slots.find((k) => k.description === name);
    assert.ok(s !== undefined, `the server has a ${name} slot`);
    return (server as unknown as Record<symbol, unknown>)[s];
  };
  return { req: slot('IncomingMessage'), res: slot('ServerResponse') };
}

/** A server whose `listen(0, '127.0.0.1')` was called (`app.listen(...)` returns one), once it listens. */
async function listening(server: Server): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Two requests held at once in one handler: whether their req and res share V8 hidden classes. */
async function concurrentShapes(base: string): Promise<{ req: boolean; res: boolean }> {
  const res = await Promise.all([request(base, '/pair/1'), request(base, '/pair/2')]);
  for (const r of res) assert.equal(r.status, 200);
  return JSON.parse((res[1].body.length > 2 ? res[1] : res[0]).body) as { req: boolean; res: boolean };
}

/** `buildApp` plus `/pair/:n`, which holds two requests and answers whether they share hidden classes. */
function appWithPair(express: ExpressLike, obs: Observability | undefined): express5.Express {
  const app = buildApp(express, obs);
  const same = sameHiddenClass();
  let held: [express5.Request, express5.Response] | undefined;
  app.get('/pair/:n', (req, res) => {
    if (held === undefined) {
      held = [req, res];
      return;
    }
    const [r1, s1] = held;
    held = undefined;
    const verdict = { req: same(r1, req), res: same(s1, res) };
    s1.json({});
    res.json(verdict);
  });
  return app;
}

describe('tuneServer: the middleware tunes the server the app runs on', () => {
  for (const [major, express] of EXPRESS_MAJORS) {
    it(`Express ${major}: app.listen() + app.use(obs.middleware) switches to the app's request classes after the first request`, async () => {
      const obs = createObservability({ serviceName: `tune-${major}`, ...QUIET });
      const app = appWithPair(express, obs);
      app.use(obs.router);
      const { server, url, close } = await listening(app.listen(0, '127.0.0.1'));
      try {
        assert.deepEqual(serverClassesOf(server), { req: http.IncomingMessage, res: http.ServerResponse }, 'app.listen() starts on Node’s classes');
        await exercise(url);
        const tuned = serverClassesOf(server);
        assert.equal((tuned.req as { name?: string }).name, 'ExpressIncomingMessage');
        assert.equal((tuned.res as { name?: string }).name, 'ExpressServerResponse');
        assert.equal((tuned.req as { prototype?: unknown }).prototype, app.request, 'requests are built on app.request');
        assert.equal((tuned.res as { prototype?: unknown }).prototype, app.response, 'responses are built on app.response');
        // What the switch is for: concurrent requests now share one hidden class (each had its own).
        assert.deepEqual(await concurrentShapes(url), { req: true, res: true });
        const m = await request(url, '/metrics');
        assert.deepEqual(labelValues(m.body, 'http_server_request_duration_seconds_count', 'route'), [...EXERCISED_ROUTES, '/pair/:n'].sort());
        assert.equal(samples(m.body, 'http_server_request_duration_seconds_count', { route: '/pair/:n', status_code: '200' })[0]?.value, 2);
      } finally {
        await close();
        await obs.shutdown();
      }
    });
  }

  it('tuneServer: false leaves app.listen() on Node’s classes (a hidden class per request)', async () => {
    const obs = createObservability({ serviceName: 'tune-off', tuneServer: false, ...QUIET });
    const app = appWithPair(express5, obs);
    const { server, url, close } = await listening(app.listen(0, '127.0.0.1'));
    try {
      await exercise(url);
      assert.deepEqual(await concurrentShapes(url), { req: false, res: false });
      assert.deepEqual(serverClassesOf(server), { req: http.IncomingMessage, res: http.ServerResponse });
      assert.equal(obs.options.tuneServer, false);
    } finally {
      await close();
      await obs.shutdown();
    }
  });

  it('keeps a keep-alive connection working across the switch', async () => {
    const obs = createObservability({ serviceName: 'tune-keepalive', ...QUIET });
    const app = express5();
    app.use(obs.middleware);
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id, onAppPrototype: Object.getPrototypeOf(req) === app.request, fresh: req.fresh });
    });
    const { server, url, close } = await listening(app.listen(0, '127.0.0.1'));
    let connections = 0;
    server.on('connection', () => connections++);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await request(url, `/users/${i}`, { agent });
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.body), { id: String(i), onAppPrototype: true, fresh: false });
      }
      assert.equal(connections, 1, 'all five requests went over one connection');
      assert.equal((serverClassesOf(server).req as { name?: string }).name, 'ExpressIncomingMessage');
      const m = await obs.registry.metrics();
      assert.equal(samples(m, 'http_server_request_duration_seconds_count', { route: '/users/:id' })[0]?.value, 5);
    } finally {
      agent.destroy();
      await close();
      await obs.shutdown();
    }
  });

  it('https.createServer(tls, app) is tuned too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eo-tls-'));
    const obs = createObservability({ serviceName: 'tune-https', ...QUIET });
    try {
      const openssl = requireTool('openssl');
      const made = spawnSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { encoding: 'utf8' });
      assert.equal(made.status, 0, `openssl made a certificate: ${made.stderr}`);
      const app = express5();
      app.use(obs.middleware);
      app.get('/users/:id', (req, res) => {
        res.json({ id: req.params.id, secure: req.secure, onAppPrototype: Object.getPrototypeOf(req) === app.request });
      });
      const tls = { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
      const { server, url, close } = await listening(https.createServer(tls, app).listen(0, '127.0.0.1'));
      try {
        const get = (p: string): Promise<{ status: number; body: string }> =>
          new Promise((resolve, reject) => {
            https
              .get(`${url.replace('http:', 'https:')}${p}`, { rejectUnauthorized: false, agent: false }, (res) => {
                let body = '';
                res.setEncoding('utf8');
                res.on('data', (c: string) => (body += c));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
              })
              .on('error', reject);
          });
        for (const id of ['1', '2', '3']) {
          const r = await get(`/users/${id}`);
          assert.equal(r.status, 200);
          assert.deepEqual(JSON.parse(r.body), { id, secure: true, onAppPrototype: true });
        }
        assert.equal((serverClassesOf(server).req as { prototype?: unknown }).prototype, app.request);
        assert.equal(samples(await obs.registry.metrics(), 'http_server_request_duration_seconds_count', { route: '/users/:id' })[0]?.value, 3);
      } finally {
        await close();
      }
    } finally {
      await obs.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('http.createServer(obs.wrap(app)) is tuned through the wrapper', async () => {
    const obs = createObservability({ serviceName: 'tune-wrap', ...QUIET });
    const app = buildApp(express5, undefined);
    const { server, url, close } = await listening(http.createServer(obs.wrap(app as unknown as RequestListener, { endpoints: true })).listen(0, '127.0.0.1'));
    try {
      await exercise(url);
      assert.equal((serverClassesOf(server).req as { prototype?: unknown }).prototype, app.request);
      const m = await request(url, '/metrics');
      assert.equal(samples(m.body, 'http_server_request_duration_seconds_count', { route: '/users/:id', status_code: '200' })[0]?.value, 1);
    } finally {
      await close();
      await obs.shutdown();
    }
  });

  it('leaves a server alone when anything else may depend on its classes', async () => {
    const obs = createObservability({ serviceName: 'tune-leave', ...QUIET });
    const app = buildApp(express5, obs);
    class OwnRequest extends http.IncomingMessage {}
    const cases: Array<[string, () => Server]> = [
      ['a second request listener', () => http.createServer(app as unknown as RequestListener).on('request', () => undefined)],
      ['a listener that is not the app', () => http.createServer((req, res) => (app as unknown as RequestListener)(req, res))],
      ['the application’s own IncomingMessage class', () => http.createServer({ IncomingMessage: OwnRequest }, app as unknown as RequestListener)],
      ['obs.createServer(app), tuned from the start', () => obs.createServer(app as unknown as RequestListener)],
    ];
    try {
      for (const [why, make] of cases) {
        const { server, url, close } = await listening(make().listen(0, '127.0.0.1'));
        try {
          const before = serverClassesOf(server);
          await exercise(url);
          assert.deepEqual(serverClassesOf(server), before, `${why}: classes unchanged`);
        } finally {
          await close();
        }
      }
      const c = connect();
      c.use(obs.middleware as connect.NextHandleFunction);
      c.use('/hello', (_req: IncomingMessage, res: ServerResponse) => res.end('hi'));
      const { server, url, close } = await listening(http.createServer(c as unknown as RequestListener).listen(0, '127.0.0.1'));
      try {
        for (let i = 0; i < 3; i++) assert.equal((await request(url, `/hello/${i}`)).body, 'hi');
        assert.deepEqual(serverClassesOf(server), { req: http.IncomingMessage, res: http.ServerResponse }, 'Connect: Node’s classes');
      } finally {
        await close();
      }
    } finally {
      await obs.shutdown();
    }
  });

  it('rejects a tuneServer that is not a boolean, naming it', () => {
    assert.throws(() => createObservability({ tuneServer: 'yes' as unknown as boolean }), /tuneServer/);
  });
});
