import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import connect from 'connect';
import express from 'express';
import { createObservability, type ObservabilityOptions } from '../lib';
import { labelValues, samples } from './support/exposition';
import { listen, request } from './support/http';
import { addShopRoutes } from './support/routes';

const base = { serviceName: 'one-layer', metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false } } as const;

/** An Express app with `app.use(obs.middleware)` as its only observability layer. */
function expressApp(options: ObservabilityOptions) {
  const obs = createObservability({ ...base, ...options });
  const app = express();
  app.use(obs.middleware);
  return { obs, app: addShopRoutes(app) };
}

describe('middlewareEndpoints: one app.use(obs.middleware) measures and answers the endpoints', () => {
  it('serves /metrics and health from the middleware and measures every other request, %-escaped paths included', async () => {
    const { obs, app } = expressApp({ middlewareEndpoints: true });
    const srv = await listen(app);
    try {
      assert.equal((await request(srv.url, '/users/7')).status, 200);
      // A %-escaped path goes past the router (it may answer such paths) and on to the app, measured.
      const escaped = await request(srv.url, '/users/%41');
      assert.equal(escaped.status, 200);
      assert.equal(JSON.parse(escaped.body).id, 'A');
      assert.equal((await request(srv.url, '/shops/3/items/9')).status, 200);
      assert.equal((await request(srv.url, '/nope/1')).status, 404);
      const live = await request(srv.url, '/health/live');
      assert.equal(live.status, 200);
      assert.match(String(live.headers['content-type']), /^application\/health\+json/);
      assert.equal(JSON.parse(live.body).status, 'pass');
      const m = await request(srv.url, '/metrics');
      assert.equal(m.status, 200);
      assert.deepEqual(labelValues(m.body, 'http_server_request_duration_seconds_count', 'route'), [
        '/shops/:shopId/items/:itemId',
        '/users/:id',
        'unmatched',
      ]);
      assert.equal(samples(m.body, 'http_server_request_duration_seconds_count', { route: '/users/:id' })[0]?.value, 2);
      const names = obs.tracing.recentTraces({ limit: 10 }).map((t) => t.name).sort();
      assert.deepEqual(names, ['GET', 'GET /shops/:shopId/items/:itemId', 'GET /users/:id', 'GET /users/:id'], 'the endpoints are not traced');
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('keeps the router behind auth', async () => {
    const { obs, app } = expressApp({ middlewareEndpoints: true, auth: { bearerTokens: ['t0k3n-one'] } });
    const srv = await listen(app);
    try {
      for (const p of ['/metrics', '/health/ready', '/dashboard']) {
        assert.equal((await request(srv.url, p)).status, 401, `${p} without a token`);
        assert.equal((await request(srv.url, p, { headers: { authorization: 'Bearer t0k3n-one' } })).status, 200, `${p} with the token`);
      }
      assert.equal((await request(srv.url, '/users/1')).status, 200, 'application routes need no token');
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('works as the only middleware of a Connect app', async () => {
    const obs = createObservability({ ...base, middlewareEndpoints: true });
    const app = connect();
    app.use(obs.middleware as connect.NextHandleFunction);
    app.use((req: http.IncomingMessage, res: http.ServerResponse) => {
      res.end(req.url);
    });
    const srv = await listen(app as unknown as http.RequestListener);
    try {
      assert.equal((await request(srv.url, '/items/42')).body, '/items/42');
      const m = await request(srv.url, '/metrics');
      assert.equal(m.status, 200);
      assert.deepEqual(labelValues(m.body, 'http_server_request_duration_seconds_count', 'route'), ['/items/:id']);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('is off by default (the endpoints are the router\'s) and rejects a non-boolean, naming it', async () => {
    const { obs, app } = expressApp({});
    const srv = await listen(app);
    try {
      assert.equal((await request(srv.url, '/metrics')).status, 404);
      assert.equal((await request(srv.url, '/health')).status, 404);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
    assert.throws(() => createObservability({ middlewareEndpoints: 'yes' } as unknown as ObservabilityOptions), /"middlewareEndpoints" must be a boolean/);
  });
});
