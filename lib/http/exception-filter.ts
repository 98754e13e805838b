import { typeError } from '../util/validate';

/**
 * The part of Nest's `ArgumentsHost` the filter reads (`@nestjs/common`'s type fits it): the
 * context type, and the handler's arguments (for HTTP: the request first).
 */
export interface ArgumentsHostLike {
  /** `'http'` for HTTP requests (`'rpc'`, `'ws'`, `'graphql'` are left alone). */
  getType(): string;
  /** The handler's `index`th argument; for HTTP, 0 is the request. */
  getArgByIndex(index: number): unknown;
}

/**
 * A Nest exception filter: any object with `catch(exception, host)`, such as
 * `new BaseExceptionFilter(app.getHttpAdapter())` from `@nestjs/core` or a filter of your own.
 */
export interface ExceptionFilterLike {
  /** Answer `exception` (for HTTP: send the response). */
  catch(exception: unknown, host: ArgumentsHostLike): unknown;
}

/**
 * Build `obs.exceptionFilter`: wraps a Nest exception filter so the exception it answers is recorded
 * on the request (its span and access line get it when the response is a 5xx), then lets the wrapped
 * filter answer exactly as before. `record(req, exception)` keeps the exception for the request.
 */
export function createExceptionFilter(record: (req: object, exception: unknown) => void): <F extends ExceptionFilterLike>(filter: F) => F {
  return <F extends ExceptionFilterLike>(filter: F): F => {
    if (filter === null || typeof filter !== 'object' || typeof (filter as Partial<ExceptionFilterLike>).catch !== 'function') {
      typeError('exceptionFilter(filter)', 'an exception filter (an object with a catch(exception, host) method)', filter);
    }
    // The wrapper inherits from the filter, so Nest finds the filter's `@Catch(...)` types through
    // it (Nest reads them from the instance's prototype chain) and the wrapper catches exactly what
    // the filter catches; only `catch` is its own.
    const wrapper = Object.create(filter) as F;
    Object.defineProperty(wrapper, 'catch', {
      value: (exception: unknown, host: ArgumentsHostLike): unknown => {
        if (host.getType() === 'http') {
          const req = host.getArgByIndex(0);
          if (typeof req === 'object' && req !== null) record(req, exception);
        }
        return filter.catch(exception, host);
      },
      enumerable: false,
      writable: true,
      configurable: true,
    });
    return wrapper;
  };
}
