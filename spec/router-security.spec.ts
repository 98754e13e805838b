import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, describe, it, mock } from 'node:test';
import type express5 from 'express';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { samples } from './support/exposition';
import { EXPRESS_MAJORS, type ExpressLike } from './support/express-shapes';
import { listen, request, type Listening } from './support/http';
import { captureLogs, type LogCapture } from './support/log-capture';

interface Running {
  readonly obs: Observability;
  readonly srv: Listening;
  readonly cap: LogCapture;
}

const running: Running[] = [];

/** `createObservability()` with `NODE_ENV` set to `nodeEnv` while the options are resolved (it is read once, there). */
function withNodeEnv<T>(nodeEnv: string | undefined, fn: () => T): T {
  const saved = process.env.NODE_ENV;
  if (nodeEnv === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = nodeEnv;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

/** An app with the router at the root and a catch-all 404 of its own ("app-404"), so a passed-on request is told apart. */
async function start(express: ExpressLike, options: ObservabilityOptions, nodeEnv = 'test'): Promise<Running> {
  const cap = captureLogs();
  const obs = withNodeEnv(nodeEnv, () =>
    createObservability({
      serviceName: 'secure-svc',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false, transports: [cap.transport] },
      ...options,
    }),
  );
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('app-404');
  });
  const srv = await listen(app);
  const r = { obs, srv, cap };
  running.push(r);
  return r;
}

const VIEWS = ['/dashboard', '/dashboard/api/summary', '/dashboard/api/traces', '/dashboard/api/logs', '/alerts', '/alerts/rules'];
const OPS = ['/metrics', '/health', '/health/live', '/health/ready'];
const TOKEN = { Authorization: 'Bearer s3cret-token' };

after(async () => {
  for (const r of running) {
    await r.srv.close();
    await r.obs.shutdown();
  }
});

for (const [major, express] of EXPRESS_MAJORS) {
  describe(`the router in production (Express ${major})`, () => {
    it('without auth serves only /metrics and /health*: the dashboard, its APIs and /alerts pass on to the app', async () => {
      const { srv, cap } = await start(express, {}, 'production');
      for (const p of OPS) assert.equal((await request(srv.url, p)).status, 200, p);
      for (const p of VIEWS) {
        const r = await request(srv.url, p);
        assert.equal(r.status, 404, p);
        assert.equal(r.body, 'app-404', `${p} answered by the app`);
      }
      assert.equal(cap.lines().filter((l) => l.level === 'warn' && l.type !== 'access').length, 0, 'nothing open, nothing to warn about');
    });

    it('with auth serves the views behind it', async () => {
      const { srv } = await start(express, { auth: { bearerTokens: ['s3cret-token'] } }, 'production');
      for (const p of VIEWS) {
        assert.equal((await request(srv.url, p)).status, 401, `${p} without a token`);
        assert.equal((await request(srv.url, p, { headers: TOKEN })).status, 200, `${p} with the token`);
      }
    });

    it('views: true serves them without auth, and warns once at start', async () => {
      const { srv, cap } = await start(express, { views: true }, 'production');
      for (const p of VIEWS) assert.equal((await request(srv.url, p)).status, 200, p);
      const warns = cap.lines().filter((l) => l.level === 'warn' && l.type !== 'access');
      assert.equal(warns.length, 1);
      assert.match(String(warns[0]?.message), /served without auth/);
    });

    it('outside production the views are served without auth by default (no warning); views: false turns them off', async () => {
      const dev = await start(express, {}, 'development');
      for (const p of VIEWS) assert.equal((await request(dev.srv.url, p)).status, 200, p);
      assert.equal(dev.cap.lines().filter((l) => l.level === 'warn' && l.type !== 'access').length, 0);
      const off = await start(express, { views: false }, 'development');
      for (const p of VIEWS) assert.equal((await request(off.srv.url, p)).body, 'app-404', p);
      // With auth and no views, their paths are the app's: the guard asks no credentials for them.
      const guardedOff = await start(express, { views: false, auth: { bearerTokens: ['s3cret-token'] } }, 'development');
      for (const p of VIEWS) assert.equal((await request(guardedOff.srv.url, p)).body, 'app-404', p);
      assert.equal((await request(guardedOff.srv.url, '/metrics')).status, 401);
      assert.throws(() => createObservability({ views: 'yes' } as never), { name: 'TypeError', message: /"views"/ });
    });

    it('the dashboard collects only where it is served: off by default in production without auth, on with auth; enabling it anyway warns', async () => {
      // Off: no dashboard, no per-request work for it, no span ring (nothing could read them).
      const prod = await start(express, {}, 'production');
      assert.equal(prod.obs.dashboard, undefined, 'production without auth: no dashboard');
      assert.equal(prod.obs.options.tracing.ringBufferSize, 0, 'and no span ring');
      assert.equal((await request(prod.srv.url, '/users/1')).body, 'app-404');
      assert.equal(prod.obs.tracing.recentTraces().length, 0, 'no span kept in memory');
      // On wherever the views are served.
      const guarded = await start(express, { auth: { bearerTokens: ['s3cret-token'] } }, 'production');
      assert.ok(guarded.obs.dashboard, 'production with auth: dashboard on');
      assert.equal(guarded.obs.options.tracing.ringBufferSize, 1000);
      assert.equal((await request(guarded.srv.url, '/users/1')).body, 'app-404');
      const summary = await request(guarded.srv.url, '/dashboard/api/traces', { headers: TOKEN });
      assert.equal(summary.status, 200);
      assert.match(summary.body, /\/users\/1|GET/, 'the request is in the trace viewer');
      const open = await start(express, { views: true }, 'production');
      assert.ok(open.obs.dashboard, 'views: true: dashboard on');
      assert.ok((await start(express, {}, 'development')).obs.dashboard, 'development: dashboard on');
      // Explicitly on where it cannot be served: it runs as asked, and says why nobody can open it.
      const forced = await start(express, { dashboard: { enabled: true } }, 'production');
      assert.ok(forced.obs.dashboard);
      const warns = forced.cap.lines().filter((l) => l.level === 'warn' && l.type !== 'access');
      assert.equal(warns.length, 1, JSON.stringify(warns));
      assert.match(String(warns[0]?.message), /dashboard\.enabled is true but the router does not serve its views/);
      assert.equal(warns[0]?.option, 'dashboard.enabled');
      assert.equal((await request(forced.srv.url, '/dashboard')).body, 'app-404', 'still not served');
    });
  });
}

describe('router responses and failed authentication', () => {
  it('every router response says X-Content-Type-Options: nosniff, refusals included', async () => {
    const [, express] = EXPRESS_MAJORS[1];
    const open = await start(express, {});
    for (const p of [...OPS, ...VIEWS, '/dashboard/assets/dashboard.js', '/dashboard/api/nope']) {
      const r = await request(open.srv.url, p);
      assert.ok(r.status < 500, `${p} answered`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    }
    const guarded = await start(express, { auth: { bearerTokens: ['s3cret-token'], allowIps: ['127.0.0.1'] } });
    for (const p of ['/metrics', '/health']) {
      for (const headers of [{}, TOKEN]) {
        const r = await request(guarded.srv.url, p, { headers });
        assert.equal(r.headers['x-content-type-options'], 'nosniff', `${p} ${r.status}`);
      }
    }
    // An application response is the application's: the router adds nothing to it.
    assert.equal((await request(open.srv.url, '/users/1')).headers['x-content-type-options'], undefined);
  });

  it('counts failed logins by reason in observability_auth_failures_total and logs them at warn, rate-limited', async () => {
    const [, express] = EXPRESS_MAJORS[1];
    const basicAuth = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const auth = { bearerTokens: ['s3cret-token'], basic: { username: 'ops', password: 'pw' }, failureLogIntervalMs: 3_600_000 };
    const { srv, cap } = await start(express, { auth });
    const bad: Array<Record<string, string>> = [
      ...Array.from({ length: 10 }, () => ({})),
      ...Array.from({ length: 8 }, (_, i) => ({ Authorization: `Bearer wrong-${i}` })),
      ...Array.from({ length: 5 }, (_, i) => basicAuth('ops', `guess-${i}`)),
    ];
    for (const headers of bad) assert.equal((await request(srv.url, '/dashboard/api/logs', { headers })).status, 401);
    const text = (await request(srv.url, '/metrics', { headers: TOKEN })).body;
    const count = (reason: string): number | undefined => samples(text, 'observability_auth_failures_total', { reason })[0]?.value;
    assert.equal(count('missing_credentials'), 10);
    assert.equal(count('invalid_credentials'), 13);
    assert.equal(count('ip_not_allowed'), 0);
    const warns = cap.lines().filter((l) => l.message === 'observability router: authentication failed');
    assert.equal(warns.length, 1, '23 failures inside one interval: one line');
    assert.equal(warns[0]?.level, 'warn');
    assert.equal(warns[0]?.reason, 'missing_credentials');
    assert.equal(warns[0]?.path, '/dashboard/api/logs');
    assert.equal(warns[0]?.client_address, '127.0.0.1');
    assert.doesNotMatch(JSON.stringify(warns), /wrong-|guess-/, 'no credential in the log');

    // failureLogIntervalMs: 0 logs every failure; an IP refusal is its own reason.
    const every = await start(express, { auth: { allowIps: ['10.0.0.0/8'], failureLogIntervalMs: 0 } });
    for (let i = 0; i < 3; i++) assert.equal((await request(every.srv.url, '/metrics')).status, 403);
    const lines = every.cap.lines().filter((l) => l.message === 'observability router: authentication failed');
    assert.deepEqual(lines.map((l) => l.reason), ['ip_not_allowed', 'ip_not_allowed', 'ip_not_allowed']);
    assert.equal(samples(await every.obs.registry.metrics(), 'observability_auth_failures_total', { reason: 'ip_not_allowed' })[0]?.value, 3);
    assert.throws(() => createObservability({ auth: { failureLogIntervalMs: -1 } }), { name: 'RangeError', message: /"auth.failureLogIntervalMs"/ });
  });

  it('basic auth compares the password even when the user name is wrong (no short-circuit)', async () => {
    const [, express] = EXPRESS_MAJORS[1];
    const { srv } = await start(express, { auth: { basic: [{ username: 'ops', password: 'pw' }, { username: 'sre', password: 'pw2' }] } });
    const header = { Authorization: `Basic ${Buffer.from('nobody:guess').toString('base64')}` };
    const compare = mock.method(crypto, 'timingSafeEqual');
    try {
      const r = await request(srv.url, '/metrics', { headers: header });
      assert.equal(r.status, 401);
      // Two credentials, user name and password compared for each: the same work as for a known user.
      assert.equal(compare.mock.callCount(), 4);
    } finally {
      compare.mock.restore();
    }
  });
});

for (const [major, express] of EXPRESS_MAJORS) {
  describe(`default excludePaths and req.log (Express ${major})`, () => {
    it('app routes under /alerts and /dashboard that the router does not serve are measured, traced and logged', async () => {
      const cap = captureLogs();
      const obs = createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false, transports: [cap.transport] } });
      const app = express();
      app.use(obs.middleware);
      app.use('/observability', obs.router);
      app.get('/alerts/:id', (req, res) => {
        res.json({ alert: req.params.id });
      });
      app.get('/dashboard/:panel', (req, res) => {
        res.json({ panel: req.params.panel });
      });
      const srv = await listen(app);
      running.push({ obs, srv, cap });
      assert.equal((await request(srv.url, '/alerts/1')).status, 200);
      assert.equal((await request(srv.url, '/dashboard/x')).status, 200);
      assert.equal((await request(srv.url, '/observability/alerts')).status, 200, 'the router itself still answers');
      const text = (await request(srv.url, '/observability/metrics')).body;
      for (const route of ['/alerts/:id', '/dashboard/:panel']) {
        assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route, status_code: '200' })[0]?.value, 1, route);
        assert.equal(obs.tracing.recentTraces({ route }).length, 1, `trace of ${route}`);
        assert.equal(cap.lines().filter((l) => l.type === 'access' && l.route === route).length, 1, `access line of ${route}`);
      }
      const routes = samples(text, 'http_server_request_duration_seconds_count').map((s) => s.labels.route);
      assert.ok(!routes.some((r) => r?.startsWith('/observability')), 'the router’s own requests are not measured');
    });

    it('req.log is always defined: an error handler logs a bad JSON body on /metrics and on an excluded path', async () => {
      const cap = captureLogs();
      const obs = createObservability({
        metrics: { defaultMetrics: false, excludePaths: ['/internal/ping'] },
        system: { enabled: false },
        logging: { stdout: false, transports: [cap.transport] },
      });
      const app = express();
      app.use(obs.middleware);
      app.use(express.json());
      app.use(obs.router);
      app.post('/internal/ping', (_req, res) => {
        res.end('pong');
      });
      app.use(((err: Error, req, res, _next) => {
        req.log.error('bad request body', { err: err.message });
        res.status(400).json({ error: 'bad body' });
      }) as express5.ErrorRequestHandler);
      const srv = await listen(app);
      running.push({ obs, srv, cap });
      const bad = { method: 'POST', body: '{"not json', headers: { 'content-type': 'application/json' } };
      // First request of the app on an excluded path: req.log is a logger that writes nothing.
      assert.equal((await request(srv.url, '/internal/ping', bad)).status, 400);
      assert.equal(cap.lines().filter((l) => l.message === 'bad request body').length, 0, 'excluded: not logged');
      const r = await request(srv.url, '/metrics', bad);
      assert.equal(r.status, 400);
      const logged = cap.lines().filter((l) => l.message === 'bad request body');
      assert.equal(logged.length, 1);
      assert.match(String(logged[0]?.trace_id), /^[0-9a-f]{32}$/);
    });
  });
}
