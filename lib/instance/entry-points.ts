import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createExceptionFilter, type ExceptionFilterLike } from '../http/exception-filter';
import { mayServe } from '../http/router';
import { serverOptions } from '../http/server';
import type { Enter, Middleware } from '../middleware';
import type { RequestStates } from '../request/state';
import { readBool, readSection, typeError } from '../util/validate';

/** Options of `obs.wrap()`. */
export interface WrapOptions {
  /** Serve `/metrics`, `/health*`, `/dashboard*` and `/alerts*` at the root before the app. Default `false`. */
  readonly endpoints?: boolean;
}

/** What the entry points are built from. */
export interface EntryPointParts {
  readonly middleware: Middleware;
  readonly enter: Enter;
  readonly router: RequestHandler;
  readonly states: RequestStates;
  /** `middlewareEndpoints`: the middleware answers the router's paths itself. */
  readonly middlewareEndpoints: boolean;
  readonly reportError: (component: string, err: unknown) => void;
}

/** The ways an application hands its requests to the instance (see `Observability` for each). */
export interface EntryPoints {
  readonly middleware: Middleware;
  exceptionFilter<F extends ExceptionFilterLike>(filter: F): F;
  wrap(listener: RequestListener, options?: WrapOptions): RequestListener;
  createServer(listener: RequestListener, options?: ServerOptions): Server;
}

/** The middleware (with or without the endpoints), the Nest exception filter, `wrap()` and `createServer()`. */
export function createEntryPoints(parts: EntryPointParts): EntryPoints {
  const { middleware, enter, router, states, reportError } = parts;
  // middlewareEndpoints: a closure only for the requests the router may answer; every other request takes the plain path.
  const middlewareWithEndpoints: Middleware = (req, res, next) => {
    if (!mayServe(req)) {
      middleware(req, res, next);
      return;
    }
    enter(req, res, (n: NextFunction) => router(req as Request, res as Response, n), next, undefined);
  };
  /** What each wrapper wraps, so createServer() finds the Express app behind one. */
  const wrappedApps = new WeakMap<RequestListener, RequestListener>();
  return {
    middleware: parts.middlewareEndpoints ? middlewareWithEndpoints : middleware,
    exceptionFilter: createExceptionFilter((req, exception) => {
      const state = states.of(req);
      if (state !== undefined && state.handledError === undefined) state.handledError = exception;
    }),
    wrap(listener: RequestListener, wrapOptions: WrapOptions = {}): RequestListener {
      if (typeof listener !== 'function') typeError('wrap(listener)', 'a request listener function', listener);
      const endpoints = readBool(readSection(wrapOptions, 'wrap', ['endpoints']), 'endpoints', 'wrap', false);
      // No closure per request: the router only sees the paths it may answer.
      const viaRouter = (req: IncomingMessage, res: ServerResponse): void => {
        if (!mayServe(req)) {
          listener(req, res);
          return;
        }
        router(req as Request, res as Response, (err?: unknown) => {
          if (err !== undefined && err !== null) reportError('wrap', err);
          listener(req, res);
        });
      };
      const cont = endpoints ? viaRouter : listener;
      const wrapped: RequestListener = (req, res) => enter(req, res, cont, req, res);
      wrappedApps.set(wrapped, listener);
      return wrapped;
    },
    createServer(listener: RequestListener, httpOptions?: ServerOptions): Server {
      if (typeof listener !== 'function') typeError('createServer(listener)', 'an Express app or request listener', listener);
      return createHttpServer(serverOptions(wrappedApps.get(listener) ?? listener, httpOptions), listener);
    },
  };
}
