import assert from 'node:assert/strict';
import http, { type RequestListener } from 'node:http';
import { describe, it } from 'node:test';
import express from 'express';
import { createObservability, type WrapOptions } from '../lib';
import { labelValues, samples } from './support/exposition';
import { listen, request } from './support/http';
import { addShopRoutes } from './support/routes';

function build(wrapOptions?: WrapOptions) {
  const obs = createObservability({ serviceName: 'wrapped', logging: { stdout: false }, system: { enabled: false } });
  const app = addShopRoutes(express());
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.use(obs.errorHandler);
  return { obs, listener: obs.wrap(app as unknown as RequestListener, wrapOptions) };
}

describe('obs.wrap(listener): the middleware around the server, not as an Express layer', () => {
  it('measures, traces and serves the endpoints with { endpoints: true }', async () => {
    const { obs, listener } = build({ endpoints: true });
    const srv = await listen(listener);
    try {
      assert.equal((await request(srv.url, '/users/7')).status, 200);
      assert.equal((await request(srv.url, '/shops/3/items/9')).status, 200);
      assert.equal((await request(srv.url, '/boom')).status, 500);
      assert.equal((await request(srv.url, '/nope/1')).status, 404);
      const m = await request(srv.url, '/metrics');
      assert.equal(m.status, 200);
      assert.deepEqual(labelValues(m.body, 'http_server_request_duration_seconds_count', 'route'), [
        '/boom',
        '/shops/:shopId/items/:itemId',
        '/users/:id',
        'unmatched',
      ]);
      assert.equal(samples(m.body, 'http_server_request_duration_seconds_count', { route: '/boom', status_code: '500' })[0]?.value, 1);
      const h = await request(srv.url, '/health/live');
      assert.equal(h.status, 200);
      assert.equal(JSON.parse(h.body).status, 'pass');
      const names = obs.tracing.recentTraces({ limit: 10 }).map((t) => t.name).sort();
      assert.deepEqual(names, ['GET', 'GET /boom', 'GET /shops/:shopId/items/:itemId', 'GET /users/:id']);
      const boom = obs.tracing.recentTraces({ limit: 10 }).find((t) => t.name === 'GET /boom');
      assert.equal(boom?.error, true);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('leaves the endpoints to the app by default', async () => {
    const { obs, listener } = build();
    const srv = await listen(listener);
    try {
      assert.equal((await request(srv.url, '/metrics')).status, 404, 'not served unless asked');
      assert.equal((await request(srv.url, '/users/1')).status, 200);
      const text = await obs.registry.metrics();
      // Nothing is excluded by default: the app's own 404 for /metrics is measured like any other.
      assert.deepEqual(labelValues(text, 'http_server_request_duration_seconds_count', 'route'), ['/users/:id', 'unmatched']);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('rejects bad arguments, naming them', async () => {
    const obs = createObservability({ logging: { stdout: false }, system: { enabled: false } });
    try {
      assert.throws(() => obs.wrap('app' as unknown as RequestListener), /"wrap\(listener\)" must be a request listener function/);
      assert.throws(() => obs.wrap(http.createServer as unknown as RequestListener, { endpoint: true } as WrapOptions), /unknown option "wrap\.endpoint"/);
      assert.throws(() => obs.wrap((() => undefined) as RequestListener, { endpoints: 'yes' } as unknown as WrapOptions), /"wrap\.endpoints" must be a boolean/);
    } finally {
      await obs.shutdown();
    }
  });
});
