/**
 * `req.log`: a light per-request handle on the shared logger, bound to the request's trace
 * and span ids. It is a plain object set with one assignment (no accessor property, no
 * winston child per request); the winston child is created on first use.
 */
import type winston from 'winston';
import type { RequestState } from '../middleware';
import type { ObservabilityLogger } from './logger';

type LogArgs = [message: unknown, ...meta: unknown[]];

/** The logger bound to one request (`req.log`), with the shared logger's level methods. */
export class RequestLogger {
  readonly #root: ObservabilityLogger;
  readonly #state: RequestState;
  #bound: ObservabilityLogger | undefined;

  /** Bind `root` to the request whose state is `state`. */
  constructor(root: ObservabilityLogger, state: RequestState) {
    this.#root = root;
    this.#state = state;
  }

  /** The underlying winston child (full winston API), bound to the request's trace and span ids. */
  get logger(): ObservabilityLogger {
    if (this.#bound === undefined) {
      const fields: Record<string, string> = {};
      if (this.#state.traceId) fields.trace_id = this.#state.traceId;
      if (this.#state.spanId) fields.span_id = this.#state.spanId;
      this.#bound = this.#root.child(fields);
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
