import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { describe, it } from 'node:test';
import connect from 'connect';
import express from 'express';
import { createObservability } from '../lib';
import { labelValues, samples } from './support/exposition';
import { listen, pool, request } from './support/http';

const N = 10_000;

function seriesCount(text: string): number {
  return samples(text, 'http_server_request_duration_seconds_count').length;
}

describe('cardinality bounds', () => {
  it(`${N} requests to distinct random 404 paths on Express mint one series`, async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false } });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.get('/users/:id', (_req, res) => {
      res.end('ok');
    });
    const srv = await listen(app);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    try {
      const paths = Array.from({ length: N }, (_, i) => `/${randomBytes(6).toString('hex')}/${i}/wp-login.php?x=${i}`);
      await pool(paths, 16, async (p) => {
        const r = await request(srv.url, p, { agent });
        assert.equal(r.status, 404);
      });
      await request(srv.url, '/users/1', { agent });
      const text = (await request(srv.url, '/metrics', { agent })).body;
      assert.equal(seriesCount(text), 2, 'one unmatched series + one /users/:id series');
      assert.deepEqual(labelValues(text, 'http_server_request_duration_seconds_count', 'route'), ['/users/:id', 'unmatched']);
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: 'unmatched' })[0]?.value, N);
    } finally {
      agent.destroy();
      await srv.close();
      await obs.shutdown();
    }
  });

  it(`${N} distinct ids on a Connect app stay bounded; the cap folds the excess into route="other"`, async () => {
    const cap = 50;
    const obs = createObservability({ metrics: { defaultMetrics: false, maxLabelSets: cap } });
    const app = connect();
    app.use(obs.middleware as connect.NextHandleFunction);
    app.use(obs.router as unknown as connect.NextHandleFunction);
    app.use((req: http.IncomingMessage, res: http.ServerResponse) => {
      res.end(req.url);
    });
    const srv = await listen(app as unknown as http.RequestListener);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    try {
      // Ids the normalizer folds, then words it cannot fold (a scanner's dictionary): the cap must hold.
      const ids = Array.from({ length: N }, (_, i) =>
        i % 2 === 0 ? `/items/${i}` : `/catalog/${['shoes', 'hats', 'bags', 'coats'][i % 4]}-${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + ((i >> 5) % 26))}`,
      );
      await pool(ids, 16, async (p) => {
        const r = await request(srv.url, p, { agent });
        assert.equal(r.status, 200);
      });
      const text = (await request(srv.url, '/metrics', { agent })).body;
      const count = seriesCount(text);
      assert.ok(count <= cap + 1, `series ${count} must stay <= cap + the "other" series`);
      const routes = labelValues(text, 'http_server_request_duration_seconds_count', 'route');
      assert.ok(routes.includes('/items/:id'));
      assert.ok(routes.includes('other'));
      assert.ok(!routes.some((r) => /\/items\/\d/.test(r)), 'no raw numeric id');
      const overflow = samples(text, 'observability_label_overflow_total')[0]?.value ?? 0;
      const other = samples(text, 'http_server_request_duration_seconds_count', { route: 'other' })[0]?.value ?? 0;
      assert.equal(overflow, other, 'every folded observation is counted');
      const total = samples(text, 'http_server_request_duration_seconds_count').reduce((a, s) => a + s.value, 0);
      assert.equal(total, N, 'nothing is lost: every request is counted somewhere');
    } finally {
      agent.destroy();
      await srv.close();
      await obs.shutdown();
    }
  });
});
