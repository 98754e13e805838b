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
 * First path segments the router serves. Requests for anything else skip the router's layers
 * entirely: mounted at the root, the router would otherwise cost every application request a walk
 * through all of its routes. Paths with percent-escapes go through the router (it decides).
 */
const OWN_PATH = /^\/(?:metrics|health|dashboard|alerts)(?:[/?.]|$)|%/i;

/** Paths of the views (`views` option). */
const VIEW_PATH = /^\/(?:dashboard|alerts)(?:[/?.]|$)/i;

/** True when the router may answer `url` (every other request goes straight past it). */
export function mayServe(url: string | undefined): boolean {
  return OWN_PATH.test(url ?? '');
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
  // The guard comes first and only answers for the router's own (protected) paths.
  if (parts.auth) {
    const failed: AuthFailureRecorder = parts.authFailed ?? (() => undefined);
    const guard = createGuard(parts.auth, { mark: (req) => mark(req as Request), reportError: parts.reportError, failed });
    // Without views, their paths are the application's: the guard neither answers nor marks them.
    router.use(parts.views ? guard : (req, res, next) => (VIEW_PATH.test(req.url) ? next() : guard(req, res, next)));
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
    pick(parts.health).then(
      (report) => {
        res.statusCode = httpStatusOf(report);
        res.setHeader('Content-Type', HEALTH_CONTENT_TYPE);
        res.setHeader('Cache-Control', 'no-store');
        res.end(JSON.stringify(report));
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
  const gate: RequestHandler = (req, res, next) => {
    if (OWN_PATH.test(req.url)) router(req, res, next);
    else next();
  };
  return gate;
}
