import express, { type Request, type RequestHandler, type Response } from 'express';
import type { HealthProvider, HealthReport } from '../health/health';
import { httpStatusOf } from '../health/health';
import { Exposition, negotiate } from '../metrics/exposition';
import type { Dashboard } from '../dashboard/dashboard';
import { mountDashboard } from '../dashboard/http';
import { createGuard, type ResolvedAuthOptions } from './auth';
import type { AuthFailureRecorder } from './auth-failures';
import type { Alerts } from '../alerts/engine';
import { mountAlerts } from '../alerts/http';
import { pathOf } from '../middleware';

/** Content type of health responses. */
export const HEALTH_CONTENT_TYPE = 'application/health+json; charset=utf-8';

/** What the router needs from the instance. */
export interface RouterParts {
  /** Renders `/metrics` (the local registry, or the cluster's aggregate in cluster mode). */
  readonly exposition: Pick<Exposition, 'render'>;
  readonly health: HealthProvider;
  /** Marks a request as served by this router so the middleware does not measure it. */
  readonly markServed: (req: object) => void;
  readonly reportError: (component: string, err: unknown) => void;
  /** Access control (`auth` option); the router is open when undefined. */
  readonly auth?: ResolvedAuthOptions;
  /** Records each request `auth` refused (required with `auth`). */
  readonly authFailed?: AuthFailureRecorder;
  /** The dashboard served at `/dashboard`, when enabled. */
  readonly dashboard?: Dashboard;
  /** The alert rule set served at `/alerts` (JSON states) and `/alerts/rules` (Prometheus YAML). */
  readonly alerts?: Alerts;
  /** Serve the views (`/dashboard*`, `/alerts*`); when false only `/metrics` and `/health*` are served (see `views` option). */
  readonly views: boolean;
}

/**
 * First path segments the router serves: a first, cheap test. Requests for anything else skip the
 * router's layers entirely: mounted at the root, the router would otherwise cost every application
 * request a walk through all of its routes.
 */
const OWN_PATH = /^\/(?:metrics|health|dashboard|alerts)(?:[/?.]|$)/i;

/** The operations endpoints: `/metrics`, `/health`, `/health/live`, `/health/ready`. */
const OPERATIONS_PATH = /^\/(?:metrics|health(?:\/(?:live|ready))?)\/?$/i;
/** The alert views: `/alerts`, `/alerts/rules`. */
const ALERTS_PATH = /^\/alerts(?:\/rules)?\/?$/i;
/** The dashboard: its page, and everything under its `assets/` and `api/`. */
const DASHBOARD_PATH = /^\/dashboard(?:\/?$|\/(?:assets|api)\/)/i;

/**
 * Whether the router answers a request: `GET` or `HEAD` of one of its endpoints, matched as Express
 * routes them (any letter case, an optional trailing slash). Everything else is the application's,
 * `/alerts/1`, `/dashboard/x`, `POST /metrics` and a CORS preflight of `/metrics` included: the router
 * neither answers, guards, marks nor touches those requests.
 */
export function routerServes(method: string | undefined, url: string | undefined, views: { readonly dashboard: boolean; readonly alerts: boolean }): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = pathOf(url);
  // Most requests are the application's: one test of the first segment settles them.
  if (!OWN_PATH.test(path)) return false;
  return OPERATIONS_PATH.test(path) || (views.alerts && ALERTS_PATH.test(path)) || (views.dashboard && DASHBOARD_PATH.test(path));
}

/** What the router reads of a request to decide whether it may answer it. */
export interface MountedRequest {
  readonly url?: string | undefined;
  readonly originalUrl?: string | undefined;
}

/**
 * The URL to route when a wildcard mount consumed the whole path and the client asked for one of
 * the router's paths, else undefined. Nest's module middleware (`consumer.apply(obs.router)
 * .forRoutes('*')`) is mounted by Express at `/{*path}`, which leaves `req.url` at `/` (plus the
 * query) and the path the client asked for only in `req.originalUrl`. A prefix mount
 * (`app.use('/observability', obs.router)`) keeps its meaning: `/observability` itself is no path of
 * the router, and `/observability/metrics` leaves `req.url` at `/metrics`.
 */
function consumedUrl(req: MountedRequest): string | undefined {
  const original = req.originalUrl;
  if (original === undefined || original === req.url || pathOf(req.url) !== '/') return undefined;
  return OWN_PATH.test(original) ? original : undefined;
}

/** True when the router may answer `req` (every other request goes straight past it). */
export function mayServe(req: MountedRequest): boolean {
  return OWN_PATH.test(req.url ?? '') || consumedUrl(req) !== undefined;
}

/**
 * Build the observability router: `/metrics`, the health endpoints, and (when enabled) the
 * dashboard and alert endpoints. Handlers use only Node's own request/response API, so the router
 * also works when mounted in a Connect app. The result is a plain middleware function.
 */
export function createRouter(parts: RouterParts): RequestHandler {
  const router = express.Router();
  const mark = (req: Request): void => {
    parts.markServed(req);
  };
  /** Every response of the router says `nosniff` (the guard's and the dashboard's set it themselves). */
  const serve = (req: Request, res: Response): void => {
    parts.markServed(req);
    res.setHeader('X-Content-Type-Options', 'nosniff');
  };
  // The guard comes first; only the requests the router answers reach it (see the gate).
  if (parts.auth) {
    const failed: AuthFailureRecorder = parts.authFailed ?? (() => undefined);
    router.use(createGuard(parts.auth, { mark: (req) => mark(req as Request), reportError: parts.reportError, failed }));
  }
  if (parts.views && parts.dashboard) mountDashboard(router, parts.dashboard, { mark, reportError: parts.reportError });
  if (parts.views && parts.alerts) mountAlerts(router, parts.alerts, { mark, reportError: parts.reportError });

  router.get('/metrics', (req: Request, res: Response) => {
    serve(req, res);
    const format = negotiate(req.headers.accept);
    parts.exposition.render(format).then(
      ({ body, contentType }) => {
        res.setHeader('Content-Type', contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(body);
      },
      (err: unknown) => {
        parts.reportError('metrics-exposition', err);
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('# metrics collection failed\n');
      },
    );
  });

  const health = (pick: (h: HealthProvider) => Promise<HealthReport>) => (req: Request, res: Response) => {
    serve(req, res);
    pick(parts.health)
      .then((report) => [httpStatusOf(report), JSON.stringify(report)] as const)
      .then(
        ([status, body]) => {
          res.statusCode = status;
          res.setHeader('Content-Type', HEALTH_CONTENT_TYPE);
          res.setHeader('Cache-Control', 'no-store');
          res.end(body);
        },
        (err: unknown) => {
          parts.reportError('health', err);
          res.statusCode = 503;
          res.setHeader('Content-Type', HEALTH_CONTENT_TYPE);
          res.end(JSON.stringify({ status: 'fail', output: 'health evaluation failed' }));
        },
      );
  };
  router.get('/health', health((h) => h.report()));
  router.get('/health/live', health((h) => h.live()));
  router.get('/health/ready', health((h) => h.ready()));
  const views = { dashboard: parts.views && parts.dashboard !== undefined, alerts: parts.views && parts.alerts !== undefined };
  const gate: RequestHandler = (req, res, next) => {
    const url = req.url;
    if (routerServes(req.method, url, views)) {
      router(req, res, next);
      return;
    }
    const full = consumedUrl(req);
    if (full === undefined || !routerServes(req.method, full, views)) {
      next();
      return;
    }
    // Route the URL the client sent, as if mounted at the root (what Express does for each mount:
    // rewrite req.url for the layers below, put it back when they pass the request on).
    req.url = full;
    router(req, res, (err?: unknown) => {
      req.url = url;
      next(err);
    });
  };
  return gate;
}
