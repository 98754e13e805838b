import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ABORTED_STATUS, HttpMetrics, normalizeMethod } from './metrics/http-metrics';
import { RequestEndWatch } from './request/end-watch';
import { Participants } from './request/participants';
import { RouteLabels } from './request/route-labels';
import { newRequestState, type ObservedRequest, type RequestParticipant, type RequestState, type RequestStates } from './request/state';
import { pathMatcher } from './util/path-match';
import { clientAddress, contentLength, pathOf } from './util/request-facts';

export { newRequestState, RequestStates, type CompletedRequest, type ObservedRequest, type RequestParticipant, type RequestState } from './request/state';

/** Settings of the request middleware. */
export interface MiddlewareSettings {
  readonly excludePaths: readonly (string | RegExp)[];
  readonly normalizePath: ((req: IncomingMessage) => string) | undefined;
  /** Report a failure of a participant or user callback without breaking the request. */
  readonly reportError: (component: string, err: unknown) => void;
}

/** Connect-style middleware function. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
/** Connect-style error-handling middleware function. */
export type ErrorMiddleware = (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export { pathOf };

/**
 * Path a mounted handler matches its own paths against: the path of `req.url`, except when a
 * wildcard mount consumed all of it (`req.url` is `/`, as under Nest's module middleware,
 * `consumer.apply(...).forRoutes('*')`, which Express mounts at `/{*path}`): then the path of
 * `req.originalUrl`, the URL as the client sent it.
 */
export function routablePath(req: { readonly url?: string | undefined; readonly originalUrl?: string | undefined }): string {
  const path = pathOf(req.url);
  if (path !== '/') return path;
  const original = req.originalUrl;
  return original === undefined ? path : pathOf(original);
}

/** The pieces the middleware factory needs. */
export interface MiddlewareParts {
  /** Per-request state; the router marks the requests it serves there. */
  readonly states: RequestStates;
  readonly http: HttpMetrics;
  readonly participants: readonly RequestParticipant[];
  readonly settings: MiddlewareSettings;
}

/**
 * Measure one request, then continue with `fn(a, b)`: `a, b` are `next` for the Connect-style
 * middleware, or `req, res` for a wrapped listener, so neither path allocates a closure per request.
 */
export type Enter = <A, B>(req: IncomingMessage, res: ServerResponse, fn: (a: A, b: B) => void, a: A, b: B) => void;

const callNext = (next: (err?: unknown) => void): void => next();

/** Build the per-request middleware, its companion error handler and the closure-free entry point behind both. */
export function createMiddleware(parts: MiddlewareParts): {
  middleware: Middleware;
  errorHandler: ErrorMiddleware;
  enter: Enter;
  /** Called by `shutdown()`: end the diagnostics-channel subscription once its requests ended. */
  close: () => void;
  /** Called by `shutdown()` before the flushes: hand the participants now the requests that ended this turn. */
  finishEnded: () => void;
  /** The router answers `req` itself: it leaves the in-flight gauge now and is never measured; the turn's ended requests are recorded first. */
  markServed: (req: object) => void;
} {
  const { states, http, settings } = parts;
  // Nothing is excluded by default (no matcher): then no request pays for cutting its path.
  const excluded = pathMatcher(settings.excludePaths);
  const routes = new RouteLabels(settings.normalizePath, settings.reportError);
  const participants = new Participants(parts.participants, settings.reportError);

  /** Record a finished request: the histogram (and sizes) now, each participant's `finish` at the end of the turn. */
  function complete(req: ObservedRequest, res: ServerResponse, state: RequestState, aborted: boolean): void {
    // A request the router served left the in-flight gauge when it was marked (markServed).
    if (state.served) {
      participants.served(state);
      return;
    }
    http.end();
    const end = performance.now();
    const durationMs = end - state.start;
    const statusCode = res.statusCode;
    if (state.handledError !== undefined) {
      if (state.error === undefined && statusCode >= 500) state.error = state.handledError;
      state.handledError = undefined;
    }
    const method = normalizeMethod(req.method);
    const template = routes.template(req, statusCode);
    const status = aborted ? ABORTED_STATUS : String(statusCode);
    const route = http.record(method, template ?? routes.fallback(req, statusCode), status, durationMs / 1000, state.sampled ? state.traceId : undefined);
    if (aborted) http.recordAborted(method, route);
    const wantsFinish = participants.wantsFinish;
    // Read only when something uses it: metrics alone, without sizes, never do.
    const responseBytes = http.recordsSizes || wantsFinish ? contentLength(res.getHeader('content-length')) : undefined;
    if (http.recordsSizes) http.recordSizes(method, route, status, contentLength(req.headers['content-length']), responseBytes);
    if (!wantsFinish) return;
    const url = req.originalUrl ?? req.url ?? '/';
    const ua = req.headers['user-agent'];
    participants.finishAtTurnEnd({
      state,
      method,
      route,
      routeTemplate: template,
      url,
      path: pathOf(url),
      statusCode,
      status,
      aborted,
      headersSent: res.headersSent,
      responseBytes,
      userAgent: typeof ua === 'string' ? ua : undefined,
      clientAddress: clientAddress(req, state),
      durationMs,
      end,
    });
  }
  const ends = new RequestEndWatch(states, complete);

  const enter: Enter = (rawReq, res, fn, a, b) => {
    const req = rawReq as ObservedRequest;
    if (states.of(req) !== undefined) {
      fn(a, b);
      return;
    }
    if (excluded !== undefined && excluded(routablePath(req))) {
      participants.skip(req, res);
      fn(a, b);
      return;
    }
    const state = newRequestState(performance.now(), false);
    states.set(req, state);
    http.begin();
    ends.watch(req, res, state);
    participants.start(req, res, state);
    participants.run(state, fn, a, b);
  };
  const middleware: Middleware = (req, res, next) => enter(req, res, callNext, next, undefined);

  const errorHandler: ErrorMiddleware = (err, req, _res, next) => {
    const state = states.of(req);
    if (state && state.error === undefined) state.error = err;
    next(err);
  };

  // The router is about to answer one of its endpoints, which may read what participants record.
  const markServed = (req: object): void => {
    participants.finishEnded();
    if (states.markServed(req)) http.end();
  };

  return { middleware, errorHandler, enter, close: () => ends.close(), finishEnded: () => participants.finishEnded(), markServed };
}
