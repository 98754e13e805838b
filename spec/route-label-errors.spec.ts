import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type express5 from 'express';
import { createObservability, type Observability } from '../lib';
import { captureLogs, type LogCapture } from './support/log-capture';
import { samples } from './support/exposition';
import { EXPRESS_MAJORS, type ExpressLike } from './support/express-shapes';
import { listen, request, type Listening } from './support/http';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';

type Router = Pick<express5.Router, 'get'>;

/** An error carrying the status an application error handler answers with. */
class HttpError extends Error {
  constructor(readonly status: number) {
    super(`http ${status}`);
  }
}

/**
 * The ways a handler fails, each on its own parameterised route of `router`: a throw, `next(err)`,
 * a rejected promise (Express 5 handles those; Express 4 leaves them unhandled), an error the
 * application's error handler answers with 422, and a control that succeeds.
 */
function addFailures(router: Router, major: 4 | 5): void {
  router.get('/boom/:x', () => {
    throw new Error('thrown');
  });
  router.get('/next/:x', (_req, _res, next) => next(new Error('passed to next')));
  if (major === 5) {
    router.get('/reject/:x', async () => {
      await new Promise((r) => setImmediate(r));
      throw new Error('rejected');
    });
  }
  router.get('/invalid/:x', (_req, _res, next) => next(new HttpError(422)));
  router.get('/ok/:x', (_req, res) => {
    res.json({ ok: true });
  });
}

const KINDS = (major: 4 | 5): Array<[name: string, status: number]> => [
  ['boom', 500],
  ['next', 500],
  ...(major === 5 ? [['reject', 500] as [string, number]] : []),
  ['invalid', 422],
  ['ok', 200],
];

/** Mounts: [request prefix, template prefix, router the failures live in]. */
function buildApp(express: ExpressLike, obs: Observability, major: 4 | 5): { app: express5.Express; mounts: Array<[string, string, number?]> } {
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  const mounts: Array<[string, string, number?]> = [];

  // One level, parameterised mount.
  const shop = express.Router();
  addFailures(shop, major);
  app.use('/shops/:shopId', shop);
  mounts.push(['/shops/42', '/shops/:shopId']);

  // One level, static mount; the issue's /api/v1 → /orders/:id/fail.
  const api = express.Router();
  api.get('/orders/:id/fail', (_req, _res, next) => next(new Error('order failed')));
  addFailures(api, major);
  app.use('/api/v1', api);
  mounts.push(['/api/v1', '/api/v1']);

  // Two and three levels, parameterised mounts all the way.
  const tenant = express.Router({ mergeParams: true });
  const group = express.Router({ mergeParams: true });
  const leaf = express.Router({ mergeParams: true });
  addFailures(group, major);
  addFailures(leaf, major);
  group.use('/leaves/:leafId', leaf);
  tenant.use('/groups/:groupId', group);
  app.use('/tenants/:tenantId', tenant);
  mounts.push(['/tenants/acme/groups/g7', '/tenants/:tenantId/groups/:groupId']);
  mounts.push(['/tenants/acme/groups/g7/leaves/l9', '/tenants/:tenantId/groups/:groupId/leaves/:leafId']);

  // An error handler inside the middle router answers 409: the error leaves only the innermost router.
  const mid = express.Router();
  const inner = express.Router();
  addFailures(inner, major);
  mid.use('/inner/:innerId', inner);
  mid.use(((_err, _req, res, _next) => {
    res.status(409).json({ error: 'conflict' });
  }) as express5.ErrorRequestHandler);
  app.use('/mid/:midId', mid);
  mounts.push(['/mid/m1/inner/i2', '/mid/:midId/inner/:innerId', 409]);

  // A mounted sub-application (parameterised), its own routes and a router inside it.
  const admin = express();
  const teams = express.Router();
  addFailures(admin, major);
  addFailures(teams, major);
  admin.use('/teams/:team', teams);
  app.use('/admin/:org', admin);
  mounts.push(['/admin/acme', '/admin/:org']);

  // A sub-application with its own error handler (the error stays inside it), and a router inside it.
  const site = express();
  const pages = express.Router();
  addFailures(pages, major);
  site.use('/pages/:pageId', pages);
  site.use(((err: unknown, _req, res, _next) => {
    res.status(err instanceof HttpError ? err.status : 500).json({ error: 'site' });
  }) as express5.ErrorRequestHandler);
  app.use('/sites/:siteId', site);
  mounts.push(['/sites/s1/pages/p2', '/sites/:siteId/pages/:pageId']);

  app.use(obs.errorHandler);
  app.use(((err: unknown, _req, res, _next) => {
    res.status(err instanceof HttpError ? err.status : 500).json({ error: 'app' });
  }) as express5.ErrorRequestHandler);
  return { app, mounts };
}

for (const [major, express] of EXPRESS_MAJORS) {
  describe(`route labels of failed requests inside mounted routers (Express ${major})`, () => {
    let obs: Observability;
    let srv: Listening;
    let receiver: OtlpReceiver;
    let cap: LogCapture;
    let mounts: Array<[string, string, number?]>;
    before(async () => {
      receiver = await startOtlpReceiver();
      cap = captureLogs();
      obs = createObservability({
        serviceName: `route-errors-${major}`,
        metrics: { defaultMetrics: false },
        system: { enabled: false },
        logging: { stdout: false, transports: [cap.transport] },
        tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20 },
      });
      const built = buildApp(express, obs, major);
      mounts = built.mounts;
      srv = await listen(built.app);
    });
    after(async () => {
      await srv.close();
      await obs.shutdown();
      await receiver.close();
    });

    it('labels throw, next(err), rejection and a 4xx error with the full template: series, span name, access line', async () => {
      const hits: Array<[path: string, route: string, status: number]> = [['/api/v1/orders/77/fail', '/api/v1/orders/:id/fail', 500]];
      for (const [prefix, template, handlerStatus] of mounts) {
        for (const [kind, status] of KINDS(major)) {
          const answered = status === 200 ? 200 : (handlerStatus ?? status);
          hits.push([`${prefix}/${kind}/7`, `${template}/${kind}/:x`, answered]);
        }
      }
      for (const [path, , status] of hits) {
        const r = await request(srv.url, path);
        assert.equal(r.status, status, `status of ${path}`);
      }

      const text = (await request(srv.url, '/metrics')).body;
      const spans = await receiver.waitForSpans((all) => all.length >= hits.length);
      const access = cap.lines().filter((l) => l.type === 'access');
      for (const [path, route, status] of hits) {
        const series = samples(text, 'http_server_request_duration_seconds_count', { method: 'GET', route, status_code: String(status) });
        assert.equal(series[0]?.value, 1, `series for ${path} labelled ${route}`);
        const span = spans.find((s) => s.attributes['url.path'] === path);
        assert.equal(span?.name, `GET ${route}`, `span name for ${path}`);
        assert.equal(span?.attributes['http.route'], route, `http.route of ${path}`);
        const line = access.find((l) => l.path === path);
        assert.equal(line?.route, route, `access line route for ${path}`);
      }
    });

    it('labels a failure inside a router inside a sub-application the error left, without leaking ids', async () => {
      // Express keeps a mounted sub-application in a closure: once the error has left it, the mount
      // paths inside it cannot be read, so they are shown as "/…" (never as the values they matched).
      const kinds = KINDS(major).filter(([, status]) => status !== 200);
      for (const [kind, status] of kinds) {
        const r = await request(srv.url, `/admin/acme/teams/red/${kind}/3`);
        assert.equal(r.status, status);
      }
      const ok = await request(srv.url, '/admin/acme/teams/red/ok/3');
      assert.equal(ok.status, 200);
      const text = (await request(srv.url, '/metrics')).body;
      for (const [kind, status] of kinds) {
        const series = samples(text, 'http_server_request_duration_seconds_count', { route: `/admin/:org/…/${kind}/:x`, status_code: String(status) });
        assert.equal(series[0]?.value, 1, `series for ${kind}`);
      }
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/admin/:org/teams/:team/ok/:x' })[0]?.value, 1);
      const routes = samples(text, 'http_server_request_duration_seconds_count').map((s) => s.labels.route ?? '');
      assert.ok(!routes.some((r) => /acme|red|\/3$/.test(r)), `no raw value in ${routes.join(' ')}`);
    });
  });
}
