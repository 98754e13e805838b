/**
 * Types `req.log` (the request-bound child logger the middleware provides) on
 * Express's Request, for Express 4 and 5 alike: both type their Request in
 * `express-serve-static-core`, which `express.Request` extends.
 */
import type { ObservabilityLogger } from './logger';

declare module 'express-serve-static-core' {
  interface Request {
    /** Child of `obs.logger` bound to this request (its trace and span ids), set by `obs.middleware`. */
    log: ObservabilityLogger;
  }
}

/** The type of `req.log`. */
export type RequestLogger = ObservabilityLogger;
