import type { IncomingMessage } from 'node:http';
import { UNMATCHED_ROUTE } from '../metrics/http-metrics';
import { normalizePath as builtinNormalize } from '../metrics/normalize';
import { RouteResolver } from '../metrics/route-label';
import type { ObservedRequest } from './state';

/** A route path that matches every path below its mount. */
const CATCH_ALL = /^\/?(?:\*\w*|\{\/?\*\w+\}|\(\.\*\))$/;

/**
 * The route of a finished request: the template of the route that matched (`/users/:id`,
 * docs/routes.md), else `unmatched` for 404s and Express requests, else the user's
 * `normalizePath`, else (Connect) the built-in normaliser folding ids out of the path.
 */
export class RouteLabels {
  readonly #resolver = new RouteResolver();
  readonly #normalize: ((req: IncomingMessage) => string) | undefined;
  readonly #reportError: (component: string, err: unknown) => void;

  /** Labels with `normalizePath` as the user's fallback; failures go to `reportError`. */
  constructor(normalize: ((req: IncomingMessage) => string) | undefined, reportError: (component: string, err: unknown) => void) {
    this.#normalize = normalize;
    this.#reportError = reportError;
  }

  /**
   * The matched route template, if a route matched. A 404 from a route that matches every path (`*`,
   * `*path`, `{*path}`, `(.*)`: a not-found handler, such as Nest's with a global prefix) matched no
   * route of the application: undefined, so the request is `unmatched`.
   */
  template(req: ObservedRequest, statusCode: number): string | undefined {
    if (statusCode === 404 && CATCH_ALL.test(String((req.route as { path?: unknown } | undefined)?.path))) return undefined;
    try {
      return this.#resolver.resolve(req);
    } catch (err) {
      this.#reportError('route-label', err);
      return undefined;
    }
  }

  /** Route label of a request that matched no route. */
  fallback(req: ObservedRequest, statusCode: number): string {
    if (statusCode === 404) return UNMATCHED_ROUTE;
    const normalize = this.#normalize;
    if (normalize) {
      try {
        const r = normalize(req);
        if (typeof r === 'string' && r.length > 0) return r;
      } catch (err) {
        this.#reportError('normalizePath', err);
      }
      return UNMATCHED_ROUTE;
    }
    // Express sets req.app; Connect does not. Express requests without a route stay "unmatched".
    if (req.app !== undefined) return UNMATCHED_ROUTE;
    return builtinNormalize(req.originalUrl ?? req.url ?? '/');
  }
}
