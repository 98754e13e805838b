import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { Dashboard } from './dashboard';

/** Content-Security-Policy of every dashboard response: no inline script or style, no eval, same origin only. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSET_TYPES: Readonly<Record<string, string>> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'trace-view.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'index.html': 'text/html; charset=utf-8',
};

/** Directory of the page's static files: `assets/` beside the code (lib/dashboard, build/dashboard, and dist/ for the one-file build). */
export function assetDir(): string {
  return path.join(__dirname, 'assets');
}

function loadAssets(): Map<string, Buffer> {
  const dir = assetDir();
  const out = new Map<string, Buffer>();
  for (const name of Object.keys(ASSET_TYPES)) out.set(name, readFileSync(path.join(dir, name)));
  return out;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

function secure(res: Response): void {
  res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
}

function str(v: string | null, max = 512): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined;
}

function num(v: string | null): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** What the dashboard routes need besides the model. */
export interface DashboardHttpParts {
  /** Marks a request as served by the observability router (never measured). */
  readonly mark: (req: Request) => void;
  readonly reportError: (component: string, err: unknown) => void;
}

/**
 * Mount the page and its JSON API on `router`: `GET /dashboard`, `/dashboard/assets/*`,
 * `/dashboard/api/{summary,charts,traces,traces/:id,routes/detail,logs,alerts,alerts/traces}`.
 * Their routes and the page's files are made on the first request under `/dashboard`, so a process
 * whose dashboard is never opened does not pay for them at start-up.
 */
export function mountDashboard(router: Router, dashboard: Dashboard, parts: DashboardHttpParts): void {
  let sub: Router | undefined;
  router.use(
    '/dashboard',
    (req, res, next) => {
      parts.mark(req);
      secure(res);
      next();
    },
    (req, res, next) => (sub ??= dashboardRoutes(dashboard, parts))(req, res, next),
  );
}

/** The dashboard's routes, relative to `/dashboard`. */
function dashboardRoutes(dashboard: Dashboard, parts: DashboardHttpParts): Router {
  const assets = loadAssets();
  const sub = express.Router({ strict: true });

  const json = (res: Response, status: number, body: string): void => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(body);
  };
  // The body is serialised inside the chain: a value JSON cannot hold (a BigInt a health check
  // reported) is a 500 answer, not a rejection nobody handles.
  const handle = (fn: (q: URLSearchParams, req: Request) => Promise<[number, unknown]> | [number, unknown]) => (req: Request, res: Response) => {
    Promise.resolve()
      .then(() => fn(new URL(req.url ?? '/', 'http://localhost').searchParams, req))
      .then(([status, body]) => [status, JSON.stringify(body)] as const)
      .then(
        ([status, body]) => json(res, status, body),
        (err: unknown) => {
          parts.reportError('dashboard.api', err);
          json(res, 500, '{"error":"dashboard data unavailable"}');
        },
      );
  };

  sub.get('/', (req, res) => {
    // Relative asset and API URLs need the page at ".../dashboard" (no trailing slash).
    const original = req.originalUrl;
    const q = original.indexOf('?');
    const pathPart = q === -1 ? original : original.slice(0, q);
    if (pathPart.endsWith('/')) {
      res.statusCode = 301;
      res.setHeader('Location', `${pathPart.replace(/\/+$/, '').replace(/^\/+/, '/')}${q === -1 ? '' : original.slice(q)}`);
      res.end();
      return;
    }
    res.setHeader('Content-Type', ASSET_TYPES['index.html'] as string);
    res.end(assets.get('index.html'));
  });
  sub.get('/assets/:file', (req, res) => {
    const file = (req.url ?? '').replace(/^\/assets\//, '').replace(/\?.*$/, '');
    const body = file === 'index.html' ? undefined : assets.get(file);
    if (!body) {
      json(res, 404, '{"error":"not found"}');
      return;
    }
    res.setHeader('Content-Type', ASSET_TYPES[file] as string);
    res.end(body);
  });
  sub.get('/api/summary', handle(async () => [200, await dashboard.summary()]));
  sub.get(
    '/api/charts',
    handle((q) => {
      const method = str(q.get('method'), 16);
      const route = str(q.get('route'), 2048);
      if ((method === undefined) !== (route === undefined)) return [400, { error: 'method and route go together (neither: all routes)' }];
      return [200, dashboard.charts(method, route)];
    }),
  );
  sub.get(
    '/api/traces',
    handle((q) => [
      200,
      dashboard.traces({
        route: str(q.get('route')),
        status: str(q.get('status'), 16),
        minMs: num(q.get('minMs')),
        sort: str(q.get('sort'), 16),
        limit: Math.min(num(q.get('limit')) ?? 100, 1000),
      }),
    ]),
  );
  sub.get(
    '/api/traces/:traceId',
    handle((_q, req) => {
      const id = String((req.url ?? '').replace(/^\/api\/traces\//, '').replace(/\?.*$/, '')).toLowerCase();
      if (!TRACE_ID.test(id)) return [400, { error: 'traceId must be 32 lowercase hex digits' }];
      const t = dashboard.trace(id);
      return t ? [200, t] : [404, { error: 'trace not in the in-memory buffer', traceId: id, externalUrl: dashboard.externalUrl(id) }];
    }),
  );
  sub.get(
    '/api/routes/detail',
    handle(async (q) => {
      const method = str(q.get('method'), 16);
      const route = str(q.get('route'), 2048);
      if (!method || !route) return [400, { error: 'method and route are required' }];
      const d = await dashboard.route(method, route);
      return d ? [200, d] : [404, { error: 'no such route' }];
    }),
  );
  sub.get(
    '/api/logs',
    handle((q) => {
      const level = str(q.get('level'), 16);
      const traceId = str(q.get('traceId'), 32);
      if (traceId) return [200, dashboard.logs.byTrace(traceId)];
      return [200, dashboard.logs.recent({ ...(level ? { levels: [level] } : {}), limit: Math.min(num(q.get('limit')) ?? 100, 1000) })];
    }),
  );
  sub.get('/api/alerts', handle(async () => [200, await dashboard.alerts()]));
  sub.get(
    '/api/alerts/traces',
    handle(async (q) => {
      const name = str(q.get('name'));
      if (!name) return [400, { error: 'name is required' }];
      const r = await dashboard.alertTraces(name);
      return r ? [200, r] : [404, { error: 'no such alert' }];
    }),
  );
  sub.use((_req, res) => json(res, 404, '{"error":"not found"}'));
  return sub;
}
