import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RoutableRequest } from '../metrics/route-label';

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
  /** Trace id of the request's span, when tracing is on (sampled or not: its log lines carry it either way). */
  traceId: string | undefined;
  /** Span id of the request's span, when tracing is on. */
  spanId: string | undefined;
  /** Whether the request's span is sampled (exported, kept for the trace viewer, an exemplar). */
  sampled: boolean;
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
    sampled: false,
    span: undefined,
    client: undefined,
    done,
    served: false,
    log: undefined,
  };
}

/**
 * Where the middleware keeps each request's state: in a symbol-keyed slot of the request, one
 * symbol per instance. Not a WeakMap: V8's young-generation GC treats a WeakMap's values as strong
 * whether or not their key is alive, so every request's state (and all it references) would survive
 * at least one scavenge after its request ended (docs/performance.md, "Garbage").
 */
export class RequestStates {
  readonly #key = Symbol('express-observability request state');

  /** The state of `req`, if the middleware measures it. */
  of(req: object): RequestState | undefined {
    return (req as Record<symbol, RequestState | undefined>)[this.#key];
  }

  /** Record `state` for `req`. */
  set(req: object, state: RequestState): void {
    (req as Record<symbol, RequestState | undefined>)[this.#key] = state;
  }

  /** Mark `req` as served by the observability router (not measured); true the first time for a measured, unfinished request. */
  markServed(req: object): boolean {
    const state = this.of(req);
    if (state === undefined || state.served || state.done) return false;
    state.served = true;
    return true;
  }
}

/** A request as the middleware sees it. */
export type ObservedRequest = IncomingMessage & RoutableRequest;

/**
 * A finished (or aborted) request, as handed to each participant once. It waits for the end of the
 * event-loop turn, so it carries the facts participants need, not the request and response objects:
 * those are garbage as soon as the response is done, as without the package.
 */
export interface CompletedRequest {
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
  /** True when the response's status line and headers were sent (always, unless aborted early). */
  readonly headersSent: boolean;
  /** The response's `Content-Length`, when it had a valid one. */
  readonly responseBytes: number | undefined;
  /** The request's `User-Agent` header. */
  readonly userAgent: string | undefined;
  /** The client's address (`X-Forwarded-For` as Express's `req.ip` reads it, else the socket's peer). */
  readonly clientAddress: string | undefined;
  /** Wall time from middleware entry to finish/close, in milliseconds. */
  readonly durationMs: number;
  /** `performance.now()` when the response finished or the connection closed (recording may come later in the turn). */
  readonly end: number;
}

/** A subsystem that takes part in each request (tracing, access log, ...). */
export interface RequestParticipant {
  /** Called when the request enters the middleware. */
  start?(req: ObservedRequest, res: ServerResponse, state: RequestState): void;
  /** Runs the rest of the chain, `fn(a, b)` (tracing enters the span's context here). */
  run?<A, B>(state: RequestState, fn: (a: A, b: B) => void, a: A, b: B): void;
  /** Called exactly once when the response finished or the connection closed. */
  finish?(done: CompletedRequest): void;
  /** Called once, at its end, for a request the observability router answered itself (never measured, traced or logged). */
  served?(state: RequestState): void;
  /** Called instead of the others for a request the middleware does not measure (`metrics.excludePaths`). */
  skip?(req: ObservedRequest, res: ServerResponse): void;
}
