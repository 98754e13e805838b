import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { createIpMatcher, parseCidr } from '../lib/http/auth';
import { listen, request, type Listening } from './support/http';

const running: { obs: Observability; server: Listening }[] = [];

async function start(auth: ObservabilityOptions['auth']): Promise<Listening> {
  const obs = createObservability({
    serviceName: 'secret-service-name',
    metrics: { defaultMetrics: false },
    system: { enabled: false },
    logging: { stdout: false },
    auth,
  });
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  const server = await listen(app);
  running.push({ obs, server });
  return server;
}

const PROTECTED = ['/metrics', '/health', '/health/ready', '/dashboard', '/dashboard/api/summary', '/dashboard/assets/dashboard.js', '/dashboard/api/traces'];
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

function assertDenied(r: { status: number; body: string; headers: Record<string, unknown> }, status: 401 | 403): void {
  assert.equal(r.status, status);
  assert.equal(r.body, status === 401 ? '{"error":"unauthorized"}' : '{"error":"forbidden"}');
  assert.doesNotMatch(r.body, /secret-service-name|http_server|pass|fail/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
}

describe('router access control (auth option)', () => {
  after(async () => {
    for (const r of running) {
      await r.server.close();
      await r.obs.shutdown();
    }
  });

  it('bearer tokens: protected endpoints answer 401 and leak nothing without a valid token, work with one', async () => {
    const s = await start({ bearerTokens: ['t0k3n-one', 't0k3n-two'] });
    for (const p of PROTECTED) {
      const none = await request(s.url, p);
      assertDenied(none, 401);
      assert.match(String(none.headers['www-authenticate']), /^Bearer realm="observability"/);
      assertDenied(await request(s.url, p, { headers: { authorization: 'Bearer t0k3n-on' } }), 401);
      assertDenied(await request(s.url, p, { headers: { authorization: 'Bearer t0k3n-one-and-more' } }), 401);
      assertDenied(await request(s.url, p, { headers: { authorization: basic('t0k3n-one', 'x') } }), 401);
      for (const token of ['t0k3n-one', 't0k3n-two']) {
        const ok = await request(s.url, p, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(ok.status, 200, `${p} with a token`);
      }
    }
    // Liveness stays public; the application's own routes are never guarded.
    assert.equal((await request(s.url, '/health/live')).status, 200);
    assert.equal((await request(s.url, '/users/7')).status, 200);
    // Encoded paths are not the router's (Express routes the raw path, so its handlers would not answer
    // them either): they reach the application (its 404 here), and nothing of the router's leaks.
    for (const p of ['/%64ashboard/api/summary', '/dashboard%2Fapi/summary', '/%6Detrics']) {
      const r = await request(s.url, p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body, /secret-service-name|http_server|"requests"/, p);
    }
    // Express routes paths case-insensitively and ignores a trailing slash: so does the guard.
    assertDenied(await request(s.url, '/DASHBOARD/api/summary'), 401);
    assertDenied(await request(s.url, '/Metrics/'), 401);
    assert.equal((await request(s.url, '/Health/Live')).status, 200);
  });

  it('basic auth (constant-time compare): wrong or malformed credentials 401, right ones 200', async () => {
    const s = await start({ basic: [{ username: 'ops', password: 'pa:ss wörd' }] });
    assertDenied(await request(s.url, '/metrics'), 401);
    assert.match(String((await request(s.url, '/metrics')).headers['www-authenticate']), /^Basic realm="observability"/);
    assertDenied(await request(s.url, '/metrics', { headers: { authorization: basic('ops', 'pa:ss') } }), 401);
    assertDenied(await request(s.url, '/metrics', { headers: { authorization: basic('op', 'pa:ss wörd') } }), 401);
    assertDenied(await request(s.url, '/metrics', { headers: { authorization: 'Basic !!!not-base64' } }), 401);
    assertDenied(await request(s.url, '/metrics', { headers: { authorization: 'Basic' } }), 401);
    const ok = await request(s.url, '/metrics', { headers: { authorization: basic('ops', 'pa:ss wörd') } });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /http_server_request_duration_seconds/);
  });

  it('IP/CIDR allowlist: other addresses get 403 even with credentials', async () => {
    const denied = await start({ allowIps: ['10.0.0.0/8', 'fd00::/8'], bearerTokens: ['tok'] });
    assertDenied(await request(denied.url, '/metrics', { headers: { authorization: 'Bearer tok' } }), 403);
    assert.equal((await request(denied.url, '/health/live')).status, 200);
    const allowed = await start({ allowIps: ['127.0.0.0/8'] });
    assert.equal((await request(allowed.url, '/metrics')).status, 200);
    assert.equal((await request(allowed.url, '/dashboard/api/summary')).status, 200);
    const mapped = await start({ allowIps: ['::ffff:127.0.0.1'] });
    assert.equal((await request(mapped.url, '/metrics')).status, 200);
  });

  it('matches IPv4, IPv6 and v4-mapped addresses against CIDRs', () => {
    const m = createIpMatcher(['192.168.1.0/24', '::1', 'fd00::/8', '::ffff:10.0.0.0/104']);
    assert.equal(m('192.168.1.77'), true);
    assert.equal(m('192.168.2.1'), false);
    assert.equal(m('::ffff:192.168.1.5'), true);
    assert.equal(m('::1'), true);
    assert.equal(m('::2'), false);
    assert.equal(m('fd12:3456::1'), true);
    assert.equal(m('fe80::1'), false);
    assert.equal(m('10.200.0.1'), true);
    assert.equal(m('11.0.0.1'), false);
    assert.equal(m(undefined), false);
    assert.equal(m('not-an-ip'), false);
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('::/129'), undefined);
    assert.equal(parseCidr('10.0.0.0/x'), undefined);
  });

  it('custom authorize function; a throwing one denies (403) and is counted, never crashes', async () => {
    const s = await start({
      authorize: (req) => {
        if (req.headers['x-boom']) throw new Error('authorizer exploded');
        return Promise.resolve(req.headers['x-team'] === 'sre');
      },
      bearerTokens: ['tok'],
    });
    assertDenied(await request(s.url, '/metrics'), 401);
    assertDenied(await request(s.url, '/metrics', { headers: { 'x-team': 'dev' } }), 401);
    assert.equal((await request(s.url, '/metrics', { headers: { 'x-team': 'sre' } })).status, 200);
    assertDenied(await request(s.url, '/metrics', { headers: { 'x-boom': '1' } }), 403);
    const metrics = await request(s.url, '/metrics', { headers: { authorization: 'Bearer tok' } });
    assert.match(metrics.body, /observability_internal_errors_total\{component="auth.authorize"\} 1/);
  });

  it('a global or sticky RegExp in auth.paths protects every request, not every other one', async () => {
    const s = await start({ bearerTokens: ['tok'], paths: [/^\/metrics/g, /^\/health/y] });
    for (let i = 0; i < 4; i++) {
      assertDenied(await request(s.url, '/metrics'), 401);
      assertDenied(await request(s.url, '/health'), 401);
    }
  });

  for (const auth of [{ bearerTokens: ['tok'] }, undefined]) {
    it(`the application's own routes under the router's prefixes are the application's: not guarded, answered and measured (${auth ? 'auth' : 'no auth'})`, async () => {
      const obs = createObservability({ serviceName: 'app-paths', ...(auth ? { auth } : {}), views: true, logging: { stdout: false }, system: { enabled: false }, metrics: { defaultMetrics: false } });
      const app = express();
      app.use(obs.middleware);
      app.use(obs.router);
      const mine = (_req: express.Request, res: express.Response) => void res.json({ mine: true });
      app.get('/alerts/:id', mine);
      app.delete('/alerts/:id', mine);
      app.get('/health/db', mine);
      app.post('/metrics', mine);
      app.get('/dashboard/x', mine);
      app.options('/metrics', (_req, res) => void res.status(204).set('access-control-allow-origin', '*').end());
      const server = await listen(app);
      running.push({ obs, server });
      for (const [method, p] of [['GET', '/alerts/1'], ['DELETE', '/alerts/1'], ['GET', '/health/db'], ['POST', '/metrics'], ['GET', '/dashboard/x']] as const) {
        const r = await request(server.url, p, { method });
        assert.equal(r.status, 200, `${method} ${p}`);
        assert.equal(r.body, '{"mine":true}', `${method} ${p}`);
      }
      const preflight = await request(server.url, '/metrics', { method: 'OPTIONS' });
      assert.equal(preflight.status, 204, 'a CORS preflight of /metrics is the application\'s');
      assert.equal(preflight.headers['access-control-allow-origin'], '*');
      const text = await obs.registry.metrics();
      for (const route of ['/alerts/:id', '/health/db', '/metrics', '/dashboard/x']) assert.match(text, new RegExp(`route="${route.replace(/\//g, '\\/')}"`), `${route} measured`);
    });
  }

  it('authorize as the only credential kind: a denial is 403 (a 401 would need a scheme to challenge with)', async () => {
    const s = await start({ authorize: (req) => req.headers['x-team'] === 'sre' });
    const denied = await request(s.url, '/metrics');
    assertDenied(denied, 403);
    assert.equal(denied.headers['www-authenticate'], undefined);
    assert.equal((await request(s.url, '/metrics', { headers: { 'x-team': 'sre' } })).status, 200);
    const metrics = await request(s.url, '/metrics', { headers: { 'x-team': 'sre' } });
    assert.match(metrics.body, /observability_auth_failures_total\{reason="authorize_denied"\} 1/);
  });

  it('protects only the listed endpoints with auth.paths / auth.publicPaths', async () => {
    const s = await start({ bearerTokens: ['tok'], paths: ['/dashboard', '/metrics'], publicPaths: ['/dashboard/assets'] });
    assert.equal((await request(s.url, '/health')).status, 200);
    assertDenied(await request(s.url, '/metrics'), 401);
    assertDenied(await request(s.url, '/dashboard'), 401);
    assert.equal((await request(s.url, '/dashboard/assets/dashboard.css')).status, 200);
  });

  it('validates the auth option, naming the bad key', () => {
    const bad: [unknown, RegExp][] = [
      [{ allowIps: ['10.0.0.0/40'] }, /option "auth\.allowIps\[0\]" must be an IPv4\/IPv6 address or CIDR/],
      [{ allowIps: '10.0.0.0/8' }, /option "auth\.allowIps" must be an array of strings/],
      [{ bearerTokens: [''] }, /option "auth\.bearerTokens\[0\]"/],
      [{ basic: { username: 'a:b', password: 'x' } }, /option "auth\.basic\.username"/],
      [{ basic: [{ username: 'a', password: '' }] }, /option "auth\.basic\[0\]\.password"/],
      [{ authorize: 'yes' }, /option "auth\.authorize" must be a function/],
      [{ bearer: ['x'] }, /unknown option "auth\.bearer"/],
      [{ paths: [1] }, /option "auth\.paths\[0\]"/],
      // Admits everyone: an empty token list (an unset variable) must not serve the views openly in production.
      [{ bearerTokens: [] }, /option "auth" must be an object that sets at least one of bearerTokens, basic, allowIps or authorize/],
      [{ paths: ['/metrics'] }, /option "auth" must be an object that sets at least one of/],
    ];
    for (const [auth, re] of bad) {
      assert.throws(() => createObservability({ auth: auth as never, system: { enabled: false } }), (e: Error) => e instanceof TypeError && re.test(e.message));
    }
  });
});
