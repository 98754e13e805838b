import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ABORTED_STATUS, HttpMetrics, normalizeMethod, UNMATCHED_ROUTE } from './metrics/http-metrics';
import { normalizePath as builtinNormalize } from './metrics/normalize';
import { RouteResolver, type RoutableRequest } from './metrics/route-label';
import { contentLength } from './util/request-facts';

/** Per-request state, kept by the instance's {@link RequestStates}. */
export interface RequestState {
  /** `performance.now()` at the start of the request. */
  readonly start: number;
  /** Error thrown by a handler or passed to `next(err)`, recorded by `errorHandler`. */
  error: unknown;
  /** Trace id of the request's span, when tracing is on. */
  traceId: string | undefined;
  /** Span id of the request's span, when tracing is on. */
  spanId: string | undefined;
  /** The tracing participant's data for this request (its span and context); opaque to others. */
  span: unknown;
  /** Client address once computed (`null`: unknown); see `clientAddress()` in util/request-facts. */
  client: string | null | undefined;
  /** Set once the request has been recorded. */
  done: boolean;
  /** Set when the observability router itself answered the request (never measured). */
  served: boolean;
  /** The request's `req.log`, once something read it (owned by the logging subsystem). */
  log: unknown;
}

/**
 * Where the middleware keeps each request's state: a WeakMap keyed by the request, not a property
 * on the request. Express re-prototypes every req/res (`Object.setPrototypeOf` in app.handle), after
 * which V8 gives each of them a hidden class of its own; a property added to them then copies that
 * hidden class, and a read of one that is absent walks their whole prototype chain on every request.
 * Lookups by identity in a WeakMap cost the same on every object.
 */
export class RequestStates {
  readonly #states = new WeakMap<object, RequestState>();

  /** The state of `req`, if the middleware measures it. */
  of(req: object): RequestState | undefined {
    return this.#states.get(req);
  }

  /** Record `state` for `req`. */
  set(req: object, state: RequestState): void {
    this.#states.set(req, state);
  }

  /** Mark `req` as served by the observability router (not measured). */
  markServed(req: object): void {
    const state = this.#states.get(req);
    if (state !== undefined) state.served = true;
  }
}

/** A request as the middleware sees it. */
export type ObservedRequest = IncomingMessage & RoutableRequest;

/** A finished (or aborted) request, as handed to each participant once. */
export interface CompletedRequest {
  readonly req: ObservedRequest;
  readonly res: ServerResponse;
  readonly state: RequestState;
  /** Normalised method (`_OTHER` for unknown methods). */
  readonly method: string;
  /** Route label after the cardinality cap (`/users/:id`, `unmatched`, `other`). */
  readonly route: string;
  /** The matched route template, when a route matched. */
  readonly routeTemplate: string | undefined;
  /** Request URL as received (`originalUrl` under Express), query string included; `/` when absent. */
  readonly url: string;
  /** Request path without the query string. */
  readonly path: string;
  /** HTTP status code sent (or set, for aborted requests). */
  readonly statusCode: number;
  /** `status_code` label value: the code, or `aborted`. */
  readonly status: string;
  /** True when the connection closed before the response finished. */
  readonly aborted: boolean;
  /** Wall time from middleware entry to finish/close, in milliseconds. */
  readonly durationMs: number;
}

/** A subsystem that takes part in each request (tracing, access log, ...). */
export interface RequestParticipant {
  /** Called when the request enters the middleware. */
  start?(req: ObservedRequest, res: ServerResponse, state: RequestState): void;
  /** Runs the rest of the chain, `fn(a, b)` (tracing enters the span's context here). */
  run?<A, B>(state: RequestState, fn: (a: A, b: B) => void, a: A, b: B): void;
  /** Called exactly once when the response finished or the connection closed. */
  finish?(done: CompletedRequest): void;
}

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

/** Path of a request URL without its query string. */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
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

const addListener = EventEmitter.prototype.on;

const callNext = (next: (err?: unknown) => void): void => next();

/** Build the per-request middleware, its companion error handler and the closure-free entry point behind both. */
export function createMiddleware(parts: MiddlewareParts): { middleware: Middleware; errorHandler: ErrorMiddleware; enter: Enter } {
  const { states, http, participants, settings } = parts;
  const exactExcludes = new Set(settings.excludePaths.filter((p): p is string => typeof p === 'string'));
  const regexExcludes = settings.excludePaths.filter((p): p is RegExp => p instanceof RegExp);
  const resolver = new RouteResolver();
  const userNormalize = settings.normalizePath;

  function excluded(path: string): boolean {
    if (exactExcludes.has(path)) return true;
    for (const re of regexExcludes) if (re.test(path)) return true;
    return false;
  }

  function templateOf(req: ObservedRequest): string | undefined {
    try {
      return resolver.resolve(req);
    } catch (err) {
      settings.reportError('route-label', err);
      return undefined;
    }
  }

  /** Route label of a request that matched no route. */
  function fallbackRoute(req: ObservedRequest, statusCode: number): string {
    if (statusCode === 404) return UNMATCHED_ROUTE;
    if (userNormalize) {
      try {
        const r = userNormalize(req);
        if (typeof r === 'string' && r.length > 0) return r;
      } catch (err) {
        settings.reportError('normalizePath', err);
      }
      return UNMATCHED_ROUTE;
    }
    // Express sets req.app; Connect does not. Express requests without a route stay "unmatched".
    if (req.app !== undefined) return UNMATCHED_ROUTE;
    return builtinNormalize(req.originalUrl ?? req.url ?? '/');
  }

  function complete(req: ObservedRequest, res: ServerResponse, state: RequestState, aborted: boolean): void {
    http.end();
    if (state.served) return;
    const durationMs = performance.now() - state.start;
    const statusCode = res.statusCode;
    const method = normalizeMethod(req.method);
    const template = templateOf(req);
    const status = aborted ? ABORTED_STATUS : String(statusCode);
    const route = http.record(method, template ?? fallbackRoute(req, statusCode), status, durationMs / 1000, state.traceId);
    if (aborted) http.recordAborted(method, route);
    if (http.recordsSizes) {
      http.recordSizes(method, route, status, contentLength(req.headers['content-length']), contentLength(res.getHeader('content-length')));
    }
    if (finishers === undefined || finishers.length === 0) return;
    const url = req.originalUrl ?? req.url ?? '/';
    const done: CompletedRequest = {
      req,
      res,
      state,
      method,
      route,
      routeTemplate: template,
      url,
      path: pathOf(url),
      statusCode,
      status,
      aborted,
      durationMs,
    };
    for (const p of finishers) {
      try {
        p.finish?.(done);
      } catch (err) {
        settings.reportError('participant', err);
      }
    }
  }

  // One shared 'close' listener (no per-request closure): Node emits 'close' on every
  // ServerResponse, right after 'finish' for completed responses and alone for aborted ones.
  function onClose(this: ServerResponse): void {
    const req = (this as ServerResponse & { req?: ObservedRequest }).req;
    if (req === undefined) return;
    const state = states.of(req);
    if (state === undefined || state.done) return;
    state.done = true;
    complete(req, this, state, !this.writableFinished);
  }

  // Participants are fixed once createObservability() returns; resolved on the first request.
  let starters: readonly RequestParticipant[] | undefined;
  let finishers: readonly RequestParticipant[] | undefined;
  let runner: RequestParticipant | undefined;
  const enter: Enter = (rawReq, res, fn, a, b) => {
    const req = rawReq as ObservedRequest;
    if (states.of(req) !== undefined || excluded(pathOf(req.url))) {
      fn(a, b);
      return;
    }
    const state: RequestState = {
      start: performance.now(),
      error: undefined,
      traceId: undefined,
      spanId: undefined,
      span: undefined,
      client: undefined,
      done: false,
      served: false,
      log: undefined,
    };
    states.set(req, state);
    http.begin();
    // on(), not once(): once() allocates a wrapper per request; onClose ignores repeats via state.done.
    // EventEmitter's own on(), called directly: looking `on` up through the response's prototype
    // chain is a cache miss on every request under Express (see RequestStates).
    addListener.call(res, 'close', onClose);
    if (starters === undefined) {
      starters = participants.filter((p) => p.start !== undefined);
      finishers = participants.filter((p) => p.finish !== undefined);
      runner = participants.find((p) => p.run !== undefined);
    }
    if (starters.length > 0) {
      for (const p of starters) {
        try {
          p.start?.(req, res, state);
        } catch (err) {
          settings.reportError('participant', err);
        }
      }
    }
    if (runner?.run) runner.run(state, fn, a, b);
    else fn(a, b);
  };
  const middleware: Middleware = (req, res, next) => enter(req, res, callNext, next, undefined);

  const errorHandler: ErrorMiddleware = (err, req, _res, next) => {
    const state = states.of(req);
    if (state && state.error === undefined) state.error = err;
    next(err);
  };

  return { middleware, errorHandler, enter };
}
