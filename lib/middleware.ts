import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { ServerResponse as NodeServerResponse, type IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ABORTED_STATUS, HttpMetrics, normalizeMethod, UNMATCHED_ROUTE } from './metrics/http-metrics';
import { normalizePath as builtinNormalize } from './metrics/normalize';
import { RouteResolver, type RoutableRequest } from './metrics/route-label';
import { contentLength, pathOf } from './util/request-facts';

/** Per-request state, kept by the instance's {@link RequestStates}. */
export interface RequestState {
  /** `performance.now()` at the start of the request. */
  readonly start: number;
  /** Error thrown by a handler or passed to `next(err)`, recorded by `errorHandler`. */
  error: unknown;
  /**
   * Error a framework answered itself (a Nest exception filter wrapped by `exceptionFilter()`):
   * becomes {@link RequestState.error} at completion only when the response is a 5xx.
   */
  handledError: unknown;
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

/** A fresh {@link RequestState} (one allocation site, so every state shares one hidden class). */
export function newRequestState(start: number, done: boolean): RequestState {
  return {
    start,
    error: undefined,
    handledError: undefined,
    traceId: undefined,
    spanId: undefined,
    span: undefined,
    client: undefined,
    done,
    served: false,
    log: undefined,
  };
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

  /** Mark `req` as served by the observability router (not measured); true the first time for a measured, unfinished request. */
  markServed(req: object): boolean {
    const state = this.#states.get(req);
    if (state === undefined || state.served || state.done) return false;
    state.served = true;
    return true;
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
  /** Called instead of the others for a request the middleware does not measure (`metrics.excludePaths`). */
  skip?(req: ObservedRequest, res: ServerResponse): void;
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

const addListener = EventEmitter.prototype.on;

const callNext = (next: (err?: unknown) => void): void => next();

/** A request watched through the finish channel, listed under its connection until it ends. */
interface InFlight {
  readonly req: ObservedRequest;
  readonly res: ServerResponse;
  readonly state: RequestState;
}

/** Node's HTTP server publishes every finished response here (`{ request, response, socket, server }`; subscribing by name needs Node ≥ 18.7). */
const FINISH_CHANNEL = 'http.server.response.finish';

/** Build the per-request middleware, its companion error handler and the closure-free entry point behind both. */
export function createMiddleware(parts: MiddlewareParts): {
  middleware: Middleware;
  errorHandler: ErrorMiddleware;
  enter: Enter;
  /** Called by `shutdown()`: end the diagnostics-channel subscription once its requests ended. */
  close: () => void;
  /** The router answers `req` itself: it leaves the in-flight gauge now and is never measured. */
  markServed: (req: object) => void;
} {
  const { states, http, participants, settings } = parts;
  const exactExcludes = new Set(settings.excludePaths.filter((p): p is string => typeof p === 'string'));
  const regexExcludes = settings.excludePaths.filter((p): p is RegExp => p instanceof RegExp);
  const resolver = new RouteResolver();
  const userNormalize = settings.normalizePath;

  // Nothing is excluded by default: then no request pays for cutting its path.
  const anyExcludes = exactExcludes.size > 0 || regexExcludes.length > 0;
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
    // A request the router served left the in-flight gauge when it was marked (markServed).
    if (state.served) return;
    http.end();
    const durationMs = performance.now() - state.start;
    const statusCode = res.statusCode;
    if (state.handledError !== undefined) {
      if (state.error === undefined && statusCode >= 500) state.error = state.handledError;
      state.handledError = undefined;
    }
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

  // How a request's end is observed. Requests served by Node's HTTP server: its diagnostics channel
  // `http.server.response.finish` (published once per response, subscribed once per instance) for
  // finished responses, and one 'close' listener per connection for the requests a closing
  // connection aborts; nothing is added to the response. Anything else (a response that is not
  // Node's, mocks): one shared 'close' listener on the response. Under Express, adding a listener to
  // each response costs as much as the rest of the metrics path (see RequestStates).
  let channel: 'off' | 'on' | 'closing' | 'closed' = 'off';
  let tracked = 0;
  const bySocket = new WeakMap<object, InFlight[]>();

  function untrack(socket: object | undefined, state: RequestState): void {
    tracked--;
    const list = socket === undefined ? undefined : bySocket.get(socket);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        if ((list[i] as InFlight).state === state) {
          list.splice(i, 1);
          break;
        }
      }
    }
    if (tracked === 0 && channel === 'closing') stopChannel();
  }

  function onFinish(message: unknown): void {
    const m = message as { request?: ObservedRequest; response?: ServerResponse; socket?: object };
    const req = m.request;
    if (req === undefined || m.response === undefined) return;
    const state = states.of(req);
    if (state === undefined || state.done) return;
    state.done = true;
    untrack(m.socket, state);
    complete(req, m.response, state, false);
  }

  function onSocketClose(this: object): void {
    const list = bySocket.get(this);
    if (list === undefined) return;
    bySocket.delete(this);
    for (const f of list.splice(0)) {
      if (f.state.done) continue;
      f.state.done = true;
      untrack(undefined, f.state);
      complete(f.req, f.res, f.state, !f.res.writableFinished);
    }
  }

  function stopChannel(): void {
    unsubscribe(FINISH_CHANNEL, onFinish);
    channel = 'closed';
  }

  /** Watch for the end of a request: through the finish channel and its connection when Node serves it, else a listener on the response. */
  function watch(req: ObservedRequest, res: ServerResponse, state: RequestState): void {
    const socket = req.socket as unknown;
    if ((channel === 'on' || channel === 'off') && socket instanceof Socket && res instanceof NodeServerResponse) {
      if (channel === 'off') {
        subscribe(FINISH_CHANNEL, onFinish);
        channel = 'on';
      }
      let list = bySocket.get(socket);
      if (list === undefined) {
        list = [];
        bySocket.set(socket, list);
        addListener.call(socket, 'close', onSocketClose);
      }
      list.push({ req, res, state });
      tracked++;
      return;
    }
    // on(), not once(): once() allocates a wrapper per request; onClose ignores repeats via state.done.
    addListener.call(res, 'close', onClose);
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
  let skippers: readonly RequestParticipant[] | undefined;
  const resolveParticipants = (): void => {
    starters = participants.filter((p) => p.start !== undefined);
    finishers = participants.filter((p) => p.finish !== undefined);
    skippers = participants.filter((p) => p.skip !== undefined);
    runner = participants.find((p) => p.run !== undefined);
  };
  /** An excluded request: participants only get to set it up (`req.log`), nothing is measured. */
  const skip = (req: ObservedRequest, res: ServerResponse): void => {
    if (skippers === undefined) resolveParticipants();
    for (const p of skippers as readonly RequestParticipant[]) {
      try {
        p.skip?.(req, res);
      } catch (err) {
        settings.reportError('participant', err);
      }
    }
  };
  const enter: Enter = (rawReq, res, fn, a, b) => {
    const req = rawReq as ObservedRequest;
    if (states.of(req) !== undefined) {
      fn(a, b);
      return;
    }
    if (anyExcludes && excluded(routablePath(req))) {
      skip(req, res);
      fn(a, b);
      return;
    }
    const state = newRequestState(performance.now(), false);
    states.set(req, state);
    http.begin();
    watch(req, res, state);
    if (starters === undefined) resolveParticipants();
    if ((starters as readonly RequestParticipant[]).length > 0) {
      for (const p of starters as readonly RequestParticipant[]) {
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

  /**
   * Stop watching new requests through the diagnostics channel (they fall back to a listener on the
   * response); the subscription ends once the requests it watches have ended.
   */
  const close = (): void => {
    if (channel === 'on') {
      channel = 'closing';
      if (tracked === 0) stopChannel();
    } else if (channel === 'off') {
      channel = 'closed';
    }
  };

  const markServed = (req: object): void => {
    if (states.markServed(req)) http.end();
  };

  return { middleware, errorHandler, enter, close, markServed };
}
