import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import connect from 'connect';
import express5 from 'express';
import express4 from 'express4';
import { createObservability, serverOptions, type Observability } from '../lib';
import { labelValues, samples } from './support/exposition';
import { abortAfter, listen, request, waitFor, type Listening } from './support/http';

type ExpressLike = typeof express5;
type Handler = (req: express5.Request, res: express5.Response, next: express5.NextFunction) => unknown;

const ok: Handler = (_req, res) => {
  res.json({ ok: true });
};

/** The same application shape on Express 4 or 5; wildcard syntax differs between majors. */
function buildApp(express: ExpressLike, obs: Observability, major: 4 | 5): express5.Express {
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  app.get('/users/:id', ok);

  const items = express.Router({ mergeParams: true });
  items.get('/:itemId', ok);
  items.get('/', ok);
  const shops = express.Router();
  shops.use('/:shopId/items', items);
  app.use('/shops', shops);

  const tenant = express.Router({ mergeParams: true });
  tenant.get('/status', ok);
  const deep = express.Router({ mergeParams: true });
  deep.get('/:leafId', ok);
  tenant.use('/groups/:groupId', deep);
  app.use('/tenants/:tenantId', tenant);

  app.route('/books/:isbn').get(ok).put(ok);
  app.get(['/alpha/:x', '/beta/:y'], ok);
  app.get(/^\/files\/(\d+)$/, ok);
  app.get('/fail/:id', (_req, _res, next) => next(new Error('passed to next')));
  app.get('/throws/:id', () => {
    throw new Error('thrown');
  });
  if (major === 5) {
    app.get('/async/:id', async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw new Error('rejected');
    });
    app.get('/static/*rest', ok);
  } else {
    app.get('/static/*', ok);
  }
  app.get('/hang/:id', (_req, res) => {
    const t = setTimeout(() => res.end('late'), 1500);
    res.on('close', () => clearTimeout(t));
  });

  const admin = express();
  admin.get('/users/:uid', ok);
  app.use('/admin/:org', admin);

  // A mount at the application's own RegExp (its uncaptured part holds the tenant), and at `.:ext`.
  const perTenant = express.Router();
  perTenant.get('/orders/:orderId', ok);
  app.use(/^\/tenant-[a-z0-9]+/, perTenant);
  const exports = express.Router();
  exports.get('/rows/:row', ok);
  app.use('/export.:ext', exports);

  app.use(obs.errorHandler);
  app.use(((_err: unknown, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) => {
    res.status(500).end('error');
  }) as express5.ErrorRequestHandler);
  return app;
}

/** Send one request in absolute form (`GET http://host/path HTTP/1.1`, RFC 9112 §3.2.2) over a raw socket; resolves with its status line. */
function absoluteForm(base: string, target: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

async function metricsText(base: string): Promise<string> {
  const r = await request(base, '/metrics');
  assert.equal(r.status, 200);
  return r.body;
}

// Each major twice: on Node's own request classes (what app.listen() builds), and on
// serverOptions(app)'s classes built on the app's prototypes (the opt-in of obs.createServer(app)),
// which must change nothing Express does.
for (const [major, express, classes] of [
  [4, express4 as unknown as ExpressLike, false],
  [5, express5, false],
  [4, express4 as unknown as ExpressLike, true],
  [5, express5, true],
] as const) {
  describe(`route labels on Express ${major}${classes ? ', server built with serverOptions(app)' : ', Node’s request classes'}`, () => {
    let obs: Observability;
    let srv: Listening;
    before(async () => {
      obs = createObservability({ serviceName: `routes-${major}`, metrics: { defaultMetrics: false } });
      const app = buildApp(express, obs, major);
      srv = await listen(app, classes ? serverOptions(app) : undefined);
    });
    after(async () => {
      await srv.close();
      await obs.shutdown();
    });

    it('labels every request with the full route template, never a raw id', async () => {
      const hits: Array<[string, string, number, string?]> = [
        ['/users/42', '/users/:id', 200],
        ['/users/43?x=1', '/users/:id', 200],
        ['/shops/42/items/7', '/shops/:shopId/items/:itemId', 200],
        ['/shops/99/items', '/shops/:shopId/items', 200],
        ['/tenants/acme/status', '/tenants/:tenantId/status', 200],
        ['/tenants/acme/groups/g1/l2', '/tenants/:tenantId/groups/:groupId/:leafId', 200],
        ['/books/978-3', '/books/:isbn', 200],
        ['/alpha/1', '/alpha/:x', 200],
        ['/beta/2', '/beta/:y', 200],
        ['/files/123', '/^\\/files\\/(\\d+)$/', 200],
        ['/fail/5', '/fail/:id', 500],
        ['/throws/5', '/throws/:id', 500],
        ['/admin/acme/users/u1', '/admin/:org/users/:uid', 200],
        ['/static/a/b/c.css', major === 5 ? '/static/*rest' : '/static/*', 200],
        ['/no/such/path/123', 'unmatched', 404],
        // Express matches paths ignoring case: the client's case must not mint series.
        ['/SHOPS/42/Items/7', '/shops/:shopId/items/:itemId', 200],
        ['/Tenants/acme/STATUS', '/tenants/:tenantId/status', 200],
        ['/tenant-globex/orders/5', '/^\\/tenant-[a-z0-9]+/orders/:orderId', 200],
        ['/tenant-initech/orders/6', '/^\\/tenant-[a-z0-9]+/orders/:orderId', 200],
        ['/export.csv/rows/3', '/export.:ext/rows/:row', 200],
      ];
      if (major === 5) hits.push(['/async/9', '/async/:id', 500]);
      for (const [path, , status] of hits) {
        const r = await request(srv.url, path);
        assert.equal(r.status, status, `status of ${path}`);
      }
      const put = await request(srv.url, '/books/1', { method: 'PUT' });
      assert.equal(put.status, 200);
      const text = await metricsText(srv.url);
      const routes = labelValues(text, 'http_server_request_duration_seconds_count', 'route');
      const expected = [...new Set(hits.map((h) => h[1]))].sort();
      assert.deepEqual(routes, expected);
      for (const [, route, status] of hits) {
        const s = samples(text, 'http_server_request_duration_seconds_count', { method: 'GET', route, status_code: String(status) });
        assert.ok(s.length === 1 && (s[0]?.value ?? 0) >= 1, `count for ${route} ${status}`);
      }
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/books/:isbn', method: 'PUT' }).length, 1);
      for (const r of routes) assert.doesNotMatch(r, /42|acme|globex|initech|csv|SHOPS|Tenants|978|u1|\/1$|\/2$/, `raw value leaked in ${r}`);
    });

    it('labels absolute-form requests by their path, whatever the host', async () => {
      const targets: Array<[string, string, string]> = [
        ['http://h1.example/alpha/1', '/alpha/:x', '200'],
        ['http://h2.example/tenants/acme/groups/g1/l2?x=1', '/tenants/:tenantId/groups/:groupId/:leafId', '200'],
        ['https://h3.example/fail/9', '/fail/:id', '500'],
      ];
      const count = (text: string, route: string, status: string): number =>
        samples(text, 'http_server_request_duration_seconds_count', { method: 'GET', route, status_code: status })[0]?.value ?? 0;
      const before = await metricsText(srv.url);
      for (const [target, , status] of targets) assert.match(await absoluteForm(srv.url, target), new RegExp(`^HTTP/1.1 ${status} `), target);
      const text = await metricsText(srv.url);
      const routes = labelValues(text, 'http_server_request_duration_seconds_count', 'route');
      for (const r of routes) assert.doesNotMatch(r, /example|http|,/, `host leaked in ${r}`);
      for (const [, route, status] of targets) assert.equal(count(text, route, status), count(before, route, status) + 1, `${route} ${status}`);
    });

    it('counts aborted requests with status_code="aborted"', async () => {
      await abortAfter(srv.url, '/hang/77', 100);
      const text = await waitFor(async () => {
        const t = await metricsText(srv.url);
        return samples(t, 'http_server_aborted_requests_total', { route: '/hang/:id' }).length ? t : undefined;
      }, 5000, 50, 'aborted counter');
      assert.equal(samples(text, 'http_server_aborted_requests_total', { route: '/hang/:id' })[0]?.value, 1);
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/hang/:id', status_code: 'aborted' })[0]?.value, 1);
      assert.equal(samples(text, 'http_server_active_requests')[0]?.value, 0);
    });

    it('survives hostile paths and methods, without minting series', async () => {
      const hostile = [
        `/users/${'a'.repeat(20_000)}`,
        '/users/%E0%A4%A',
        '/%%%%%/%zz',
        '/../../etc/passwd',
        '/users/..%2f..%2fetc',
        `/${'x/'.repeat(500)}`,
        '/users/%00',
        '/\u00e9t\u00e9',
      ];
      for (const p of hostile) {
        const r = await request(srv.url, encodeURI(p) === p ? p : p);
        assert.ok(r.status >= 200 && r.status < 600, `answered ${p}`);
      }
      const odd = await request(srv.url, '/users/1', { method: 'BREW' });
      assert.ok(odd.status >= 400);
      const text = await metricsText(srv.url);
      const routes = labelValues(text, 'http_server_request_duration_seconds_count', 'route');
      for (const r of routes) assert.ok(r.length < 100, `bounded label ${r.slice(0, 40)}`);
      assert.ok(!routes.some((r) => r.includes('etc') || r.includes('aaaa') || r.includes('%')));
      const methods = labelValues(text, 'http_server_request_duration_seconds_count', 'method');
      assert.ok(methods.every((m) => ['GET', 'PUT', '_OTHER'].includes(m)), `methods ${methods.join(',')}`);
    });

    it('does not measure its own endpoints', async () => {
      await request(srv.url, '/health');
      await request(srv.url, '/health/ready');
      const text = await metricsText(srv.url);
      const routes = labelValues(text, 'http_server_request_duration_seconds_count', 'route');
      assert.ok(!routes.some((r) => r.startsWith('/metrics') || r.startsWith('/health')));
    });
  });
}

describe('route labels on Connect', () => {
  let obs: Observability;
  let srv: Listening;
  before(async () => {
    obs = createObservability({ serviceName: 'connect', metrics: { defaultMetrics: false } });
    const app = connect();
    app.use(obs.middleware as connect.NextHandleFunction);
    app.use(obs.router as unknown as connect.NextHandleFunction);
    app.use('/orders', (req: http.IncomingMessage, res: http.ServerResponse, next: connect.NextFunction) => {
      if (/^\/[^/]+$/.test(req.url ?? '')) {
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      } else next();
    });
    srv = await listen(app as unknown as http.RequestListener);
  });
  after(async () => {
    await srv.close();
    await obs.shutdown();
  });

  it('folds ids with the built-in normalizer and collapses 404s', async () => {
    for (const id of ['1', '123456', '550e8400-e29b-41d4-a716-446655440000', 'deadbeefdeadbeefcafe', 'a1b2c3d4e5f6g7h8i9j0']) {
      const r = await request(srv.url, `/orders/${id}`);
      assert.equal(r.status, 200);
    }
    const nf = await request(srv.url, '/wp-admin/setup.php');
    assert.equal(nf.status, 404);
    const text = await metricsText(srv.url);
    const routes = labelValues(text, 'http_server_request_duration_seconds_count', 'route');
    assert.deepEqual(routes, ['/orders/:hex', '/orders/:id', '/orders/:token', '/orders/:uuid', 'unmatched']);
  });

  it('a plain listener (obs.wrap) folds the path of an absolute-form request, never its host', async () => {
    const plain = createObservability({ metrics: { defaultMetrics: false }, logging: { stdout: false } });
    const s = await listen(plain.wrap((_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok')));
    try {
      for (const host of ['alpha', 'bravo', 'charlie']) assert.match(await absoluteForm(s.url, `http://${host}.example/orders/5?x=1`), /^HTTP\/1.1 200 /);
      const text = await plain.registry.metrics();
      assert.deepEqual(labelValues(text, 'http_server_request_duration_seconds_count', 'route'), ['/orders/:id']);
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/orders/:id' })[0]?.value, 3);
    } finally {
      await s.close();
      await plain.shutdown();
    }
  });

  it('uses normalizePath when given', async () => {
    const custom = createObservability({
      metrics: { defaultMetrics: false, normalizePath: (req) => (req.url?.startsWith('/orders') ? '/orders/{id}' : 'x') },
    });
    const app = connect();
    app.use(custom.middleware as connect.NextHandleFunction);
    app.use((_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok'));
    const s = await listen(app as unknown as http.RequestListener);
    try {
      await request(s.url, '/orders/5');
      const text = await custom.registry.metrics();
      assert.deepEqual(labelValues(text, 'http_server_request_duration_seconds_count', 'route'), ['/orders/{id}']);
    } finally {
      await s.close();
      await custom.shutdown();
    }
  });
});

describe('route labels of catch-all routes', () => {
  it('a catch-all route under a mount is labelled with its slash (`/app/*path`); a 404 from a catch-all is unmatched', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false }, logging: { stdout: false }, system: { enabled: false } });
    const app = express5();
    app.use(obs.middleware);
    const spa = express5.Router();
    spa.get('*path', (_req, res) => void res.send('index.html'));
    app.use('/app', spa);
    app.all('*path', (_req, res) => void res.status(404).send('no such page'));
    const s = await listen(app);
    try {
      assert.equal((await request(s.url, '/app/settings/profile')).status, 200);
      assert.equal((await request(s.url, '/nowhere/1')).status, 404);
      const routes = labelValues(await obs.registry.metrics(), 'http_server_request_duration_seconds_count', 'route');
      assert.deepEqual(routes, ['/app/*path', 'unmatched']);
    } finally {
      await s.close();
      await obs.shutdown();
    }
  });
});

describe('route labels of Express 4 mounts whose compiled form has lookaheads', () => {
  it('`/files-:id`, `/:from-:to`: labelled by their parameters, never the client’s text or letter case', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false }, logging: { stdout: false }, system: { enabled: false } });
    const app = express4();
    app.use(obs.middleware);
    const inner = express4.Router();
    inner.get('/x', (_req, res) => void res.send('ok'));
    app.use('/files-:id', inner);
    app.use('/:from-:to', inner);
    const s = await listen(app as unknown as http.RequestListener);
    try {
      for (const p of ['/files-42/x', '/FILES-43/x', '/Files-abc/x', '/paris-rome/x', '/OSLO-Lima/x']) assert.equal((await request(s.url, p)).status, 200, p);
      const routes = labelValues(await obs.registry.metrics(), 'http_server_request_duration_seconds_count', 'route');
      assert.equal(routes.length, 2, routes.join(' | '));
      for (const r of routes) assert.doesNotMatch(r, /42|43|abc|paris|rome|oslo|OSLO|lima|Lima|FILES|Files|\^/, `raw text or a RegExp in ${r}`);
      assert.ok(routes.includes('/files-:id/x'), routes.join(' | '));
    } finally {
      await s.close();
      await obs.shutdown();
    }
  });
});
