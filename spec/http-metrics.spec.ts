import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { createObservability } from '../lib';
import { labelValues, samples } from './support/exposition';
import { listen, request, waitFor } from './support/http';

describe('HTTP metrics from the middleware', () => {
  it('records request and response body sizes when metrics.bodySizes is on', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false, bodySizes: true } });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.post('/upload/:id', express.text(), (req, res) => {
      res.type('text/plain').send('x'.repeat(3000) + String(req.body).length);
    });
    const srv = await listen(app);
    try {
      const r = await request(srv.url, '/upload/9', { method: 'POST', body: 'y'.repeat(700), headers: { 'content-type': 'text/plain', 'content-length': '700' } });
      assert.equal(r.status, 200);
      const text = (await request(srv.url, '/metrics')).body;
      assert.equal(samples(text, 'http_server_request_body_size_bytes_sum', { route: '/upload/:id', method: 'POST' })[0]?.value, 700);
      assert.equal(samples(text, 'http_server_request_body_size_bytes_bucket', { route: '/upload/:id', le: '1024' })[0]?.value, 1);
      assert.equal(samples(text, 'http_server_response_body_size_bytes_sum', { route: '/upload/:id', status_code: '200' })[0]?.value, 3003);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('tracks requests in flight and uses the configured buckets', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false, buckets: [0.05, 0.2, 1] } });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    app.get('/wait/:id', async (_req, res) => {
      await gate;
      res.end('done');
    });
    const srv = await listen(app);
    try {
      const pending = [request(srv.url, '/wait/1'), request(srv.url, '/wait/2'), request(srv.url, '/wait/3')];
      await waitFor(async () => {
        const t = (await request(srv.url, '/metrics')).body;
        return samples(t, 'http_server_active_requests')[0]?.value === 3;
      }, 5000, 20, 'three requests in flight');
      release();
      await Promise.all(pending);
      const text = (await request(srv.url, '/metrics')).body;
      assert.equal(samples(text, 'http_server_active_requests')[0]?.value, 0);
      const les = samples(text, 'http_server_request_duration_seconds_bucket', { route: '/wait/:id' }).map((s) => s.labels.le);
      assert.deepEqual(les, ['0.05', '0.2', '1', '+Inf']);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('does not measure excluded paths, given as strings or RegExps', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false, excludePaths: ['/ping', /^\/internal\//] } });
    const app = express();
    app.use(obs.middleware);
    app.get('/ping', (_req, res) => {
      res.end('pong');
    });
    app.get('/internal/:x', (_req, res) => {
      res.end('i');
    });
    app.get('/public/:x', (_req, res) => {
      res.end('p');
    });
    const srv = await listen(app);
    try {
      await request(srv.url, '/ping?x=1');
      await request(srv.url, '/internal/a');
      await request(srv.url, '/public/a');
      const text = await obs.registry.metrics();
      assert.deepEqual(labelValues(text, 'http_server_request_duration_seconds_count', 'route'), ['/public/:x']);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('does not measure the router when mounted under a prefix', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false } });
    const app = express();
    app.use(obs.middleware);
    app.use('/observability', obs.router);
    const srv = await listen(app);
    try {
      const h = await request(srv.url, '/observability/health');
      assert.equal(h.status, 200);
      assert.equal(h.headers['content-type'], 'application/health+json; charset=utf-8');
      assert.deepEqual(JSON.parse(h.body).status, 'pass');
      const m = await request(srv.url, '/observability/metrics');
      assert.equal(samples(m.body, 'http_server_request_duration_seconds_count').length, 0);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });
  it('counts each request in its bucket, sum and count, and keeps counting after a registry reset and a series removal', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false, buckets: [0.03, 0.2] } });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.get('/d/:ms', (req, res) => {
      setTimeout(() => res.end('ok'), Number(req.params.ms));
    });
    const srv = await listen(app);
    const bucket = (text: string, le: string): number | undefined =>
      samples(text, 'http_server_request_duration_seconds_bucket', { route: '/d/:ms', le })[0]?.value;
    const count = (text: string): number | undefined => samples(text, 'http_server_request_duration_seconds_count', { route: '/d/:ms' })[0]?.value;
    try {
      for (const ms of [0, 0, 0, 60, 60, 250]) assert.equal((await request(srv.url, `/d/${ms}`)).status, 200);
      let text = (await request(srv.url, '/metrics')).body;
      assert.equal(bucket(text, '0.03'), 3);
      assert.equal(bucket(text, '0.2'), 5);
      assert.equal(bucket(text, '+Inf'), 6);
      assert.equal(count(text), 6);
      const sum = samples(text, 'http_server_request_duration_seconds_sum', { route: '/d/:ms' })[0]?.value ?? 0;
      assert.ok(sum >= 0.37 && sum < 2, `sum ${sum}`);

      obs.registry.resetMetrics();
      text = (await request(srv.url, '/metrics')).body;
      assert.equal(count(text), undefined, 'a reset registry has no duration series');
      await request(srv.url, '/d/0');
      await request(srv.url, '/d/0');
      text = (await request(srv.url, '/metrics')).body;
      assert.equal(count(text), 2);
      assert.equal(bucket(text, '0.03'), 2);

      obs.metrics.get('http_server_request_duration_seconds')?.remove({ method: 'GET', route: '/d/:ms', status_code: '200' });
      await request(srv.url, '/d/60');
      text = (await request(srv.url, '/metrics')).body;
      assert.equal(count(text), 1);
      assert.equal(bucket(text, '0.03'), 0);
      assert.equal(bucket(text, '0.2'), 1);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });
});
