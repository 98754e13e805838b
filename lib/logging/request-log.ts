/**
 * `req.log`: a light per-request handle on the shared logger, bound to the request's trace
 * and span ids; the winston child is created on first use. Under Express it is served by a getter
 * on the app's request prototype (see {@link provideRequestLog}), elsewhere set on the request.
 */
import { IncomingMessage } from 'node:http';
import type winston from 'winston';
import type { RequestState } from '../middleware';
import type { ObservabilityLogger, SharedLogger } from './logger';

type LogArgs = [message: unknown, ...meta: unknown[]];

/** The logger bound to one request (`req.log`), with the shared logger's level methods. */
export class RequestLogger {
  readonly #root: SharedLogger;
  readonly #state: RequestState;
  #bound: ObservabilityLogger | undefined;

  /** Bind `root` to the request whose state is `state`. */
  constructor(root: SharedLogger, state: RequestState) {
    this.#root = root;
    this.#state = state;
  }

  /** The underlying winston child (full winston API), bound to the request's trace and span ids. */
  get logger(): ObservabilityLogger {
    if (this.#bound === undefined) {
      const fields: Record<string, string> = {};
      if (this.#state.traceId) fields.trace_id = this.#state.traceId;
      if (this.#state.spanId) fields.span_id = this.#state.spanId;
      this.#bound = this.#root.logger.child(fields);
    }
    return this.#bound;
  }

  /** Log at `error`. */
  error(...args: LogArgs): this {
    return this.#emit('error', args);
  }

  /** Log at `warn`. */
  warn(...args: LogArgs): this {
    return this.#emit('warn', args);
  }

  /** Alias of {@link RequestLogger.warn}. */
  warning(...args: LogArgs): this {
    return this.#emit('warn', args);
  }

  /** Log at `info`. */
  info(...args: LogArgs): this {
    return this.#emit('info', args);
  }

  /** Log at `debug`. */
  debug(...args: LogArgs): this {
    return this.#emit('debug', args);
  }

  /** Log at `level` (winston's `log(level, message, meta)`). */
  log(level: string, ...args: LogArgs): this {
    return this.#emit(level, args);
  }

  /** True when `level` would be written. */
  isLevelEnabled(level: string): boolean {
    return this.#root.isLevelEnabled(level);
  }

  /** A winston child with `fields`, still bound to the request. */
  child(fields: Record<string, unknown>): ObservabilityLogger {
    return this.logger.child(fields);
  }

  #emit(level: string, args: LogArgs): this {
    if (this.#root.isLevelEnabled(level)) (this.logger.log as (level: string, ...a: unknown[]) => winston.Logger)(level, ...args);
    return this;
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The shared logger bound to this request (its trace and span ids), set by `obs.middleware`. */
    log: RequestLogger;
  }
}

/** Finds the `req.log` of a request for one instance (undefined: not one of its requests). */
export type RequestLogResolver = (req: object) => RequestLogger | undefined;

/** A getter installed on one request prototype: the resolvers it asks, and the silent logger it falls back to. */
interface ProtoLog {
  readonly resolvers: RequestLogResolver[];
  readonly silent: () => RequestLogger;
}

/** Per request prototype: the resolvers its `log` getter asks, in the order instances installed them. */
const resolversByProto = new WeakMap<object, ProtoLog>();

/**
 * Serve `req.log` from a getter on the request's prototype instead of a property added to each
 * request. Express re-prototypes every request onto `app.request` (its documented extension
 * point), after which V8 gives each request a hidden class of its own; adding a property to it
 * then copies that hidden class on every request, which costs more than the rest of our request
 * path together. The getter asks each instance's `resolve`; a request none of them knows (excluded
 * from measurement, or that never passed the middleware) gets the first instance's `silent` logger,
 * so `req.log` is always defined. Assigning `req.log` (pino-http, a user) still sets a plain property
 * on that request, which then wins.
 *
 * Returns false, and installs nothing, when the prototype is Node's own `IncomingMessage.prototype`
 * (Connect, plain Node: no re-prototyping, so an own property is cheap, and Node's prototype is not
 * ours to change) or when something else already defines `log` there; the caller sets the property.
 */
export function provideRequestLog(req: object, resolve: RequestLogResolver, silent: () => RequestLogger): boolean {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === null || proto === IncomingMessage.prototype || proto === Object.prototype) return false;
  let entry = resolversByProto.get(proto);
  if (entry === undefined) {
    if (Object.prototype.hasOwnProperty.call(proto, 'log')) return false;
    const resolvers: RequestLogResolver[] = [];
    entry = { resolvers, silent };
    Object.defineProperty(proto, 'log', {
      configurable: true,
      enumerable: false,
      get(this: object): RequestLogger {
        for (const r of resolvers) {
          const log = r(this);
          if (log !== undefined) return log;
        }
        return silent();
      },
      set(this: object, value: unknown) {
        Object.defineProperty(this, 'log', { value, writable: true, configurable: true, enumerable: true });
      },
    });
    resolversByProto.set(proto, entry);
  }
  if (!entry.resolvers.includes(resolve)) entry.resolvers.push(resolve);
  return true;
}

/** The hooks of a request participant that provides `req.log`. */
export interface RequestLogBinder {
  /** `start` of a measured request. */
  readonly start: (req: object, res: unknown, state: RequestState) => void;
  /** A request the middleware does not measure (`excludePaths`): `req.log` is the silent logger. */
  readonly skip: (req: object) => void;
}

/**
 * The hooks of a request participant that provides `req.log`: remembers the last prototype it
 * served so that the common case (one Express app) costs one comparison per request.
 */
export function requestLogBinder(
  resolve: RequestLogResolver,
  fallback: (state: RequestState) => RequestLogger,
  silent: () => RequestLogger,
): RequestLogBinder {
  let served: object | null = null;
  const provided = (req: object): boolean => {
    const proto = Object.getPrototypeOf(req) as object | null;
    if (proto !== null && proto === served) return true;
    if (!provideRequestLog(req, resolve, silent)) return false;
    served = proto;
    return true;
  };
  return {
    start(req, _res, state) {
      if (!provided(req) && (req as { log?: unknown }).log === undefined) ownLog(req, fallback(state));
    },
    skip(req) {
      if (!provided(req) && (req as { log?: unknown }).log === undefined) ownLog(req, silent());
    },
  };
}

/**
 * `req.log` as an own property of a request whose prototype takes no getter (Connect, plain Node,
 * `obs.wrap()` before Express gives the request its app's prototype): not enumerable, so the
 * request's keys (`Object.keys`, `JSON.stringify`, a spread) stay the application's own; writable,
 * so an assignment still wins. A `req.log` something else set before (pino-http, the application's
 * `app.request.log`) is left alone.
 */
function ownLog(req: object, log: RequestLogger): void {
  Object.defineProperty(req, 'log', { value: log, writable: true, configurable: true, enumerable: false });
}
