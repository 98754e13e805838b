import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFunction, readNumber, readSection, typeError } from '../util/validate';

/** A hook run during graceful shutdown. */
export type ShutdownHook = () => void | Promise<void>;

/** Options of `obs.attachShutdown()`. */
export interface ShutdownOptions {
  /** Signals that start the sequence; a second one forces it. Default `['SIGTERM', 'SIGINT']`. */
  readonly signals?: readonly NodeJS.Signals[];
  /** How long readiness answers 503 while the server still accepts, so load balancers notice. Default `5000`. */
  readonly gracePeriodMs?: number;
  /** Deadline of the whole sequence; past it, open connections are destroyed and the exit code is 1. Default `25000`. */
  readonly timeoutMs?: number;
  /** Your hooks (close database pools, ...), run after in-flight requests finished and before spans and logs are flushed. */
  readonly beforeShutdown?: ShutdownHook | readonly ShutdownHook[];
  /**
   * What to do when the sequence ends: `true` calls `process.exit(code)`, `false` leaves the process to
   * you (the returned handle's `done` resolves), a function is called with the code. Default `true`.
   */
  readonly exit?: boolean | ((code: number) => void);
}

/** How a shutdown sequence ended. */
export interface ShutdownResult {
  /** The signal name or the reason passed to `shutdown()`. */
  readonly reason: string;
  /** True when a second signal or the timeout cut the sequence short. */
  readonly forced: boolean;
  /** 0 after a clean sequence; 1 when forced, a step failed, or spans or log lines were lost (docs/spool.md). */
  readonly code: number;
}

/** Handle returned by `obs.attachShutdown()`. */
export interface ShutdownHandle {
  /** Start the sequence as a signal would (a second call forces it). */
  shutdown(reason?: string): Promise<ShutdownResult>;
  /** Resolves when the sequence ended (before exit, if exit is on). */
  readonly done: Promise<ShutdownResult>;
  /** Remove the signal and request listeners without shutting down. */
  detach(): void;
}

/** What the shutdown sequence needs from the instance. */
export interface ShutdownParts {
  /** Flip readiness to fail. */
  beginShutdown(): void;
  /** `obs.shutdown()`: flush spans and logs, stop timers; `failed` when something was lost or a step failed. */
  shutdown(): Promise<{ readonly failed: boolean }>;
  /** A forced end: report what is still undelivered (synchronously) before the process exits. */
  abandon?(): void;
  readonly reportError: (component: string, err: unknown) => void;
}

const KEYS = ['signals', 'gracePeriodMs', 'timeoutMs', 'beforeShutdown', 'exit'] as const;
const IDLE_SWEEP_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Graceful shutdown of `server` on SIGTERM/SIGINT: readiness 503 at once; after the grace period the
 * server stops accepting and idle keep-alive connections are closed (every response not yet sent when
 * draining begins carries `Connection: close`); in-flight requests finish; `beforeShutdown` hooks run;
 * `obs.shutdown()` flushes spans and logs; then the process exits unless `exit: false`. A second signal or the timeout
 * destroys the remaining connections and ends with code 1. Only listeners are added; nothing is patched.
 */
export function attachShutdown(server: Server, parts: ShutdownParts, options: ShutdownOptions = {}): ShutdownHandle {
  if (!server || typeof server.close !== 'function' || typeof server.on !== 'function') {
    typeError('attachShutdown(server)', 'an http.Server or https.Server', server);
  }
  const o = readSection(options, 'attachShutdown', KEYS);
  const signals = o.signals ?? ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !/^SIG[A-Z0-9]+$/.test(s))) {
    typeError('attachShutdown.signals', 'an array of signal names', signals);
  }
  const gracePeriodMs = readNumber(o, 'gracePeriodMs', 'attachShutdown', 5000, { min: 0, integer: true });
  const timeoutMs = readNumber(o, 'timeoutMs', 'attachShutdown', 25_000, { min: 1, integer: true });
  const hooks: ShutdownHook[] = [];
  const rawHooks = o.beforeShutdown === undefined ? [] : Array.isArray(o.beforeShutdown) ? o.beforeShutdown : [o.beforeShutdown];
  rawHooks.forEach((h: unknown, i: number) => {
    if (typeof h !== 'function') typeError(`attachShutdown.beforeShutdown[${i}]`, 'a function', h);
    hooks.push(h as ShutdownHook);
  });
  const exitOpt: boolean | ((code: number) => void) =
    o.exit === undefined || typeof o.exit === 'boolean'
      ? ((o.exit as boolean | undefined) ?? true)
      : (readFunction<(code: number) => void>(o, 'exit', 'attachShutdown') as (code: number) => void);

  let draining = false;
  let finished = false;
  let resolveDone!: (r: ShutdownResult) => void;
  const done = new Promise<ShutdownResult>((r) => (resolveDone = r));
  let sequence: Promise<ShutdownResult> | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  let sweep: NodeJS.Timeout | undefined;

  // Responses not yet finished, so that those in flight when draining begins close their connection
  // too: a client reusing it would meet the idle sweep's close. Each leaves on its own 'close' event.
  const inFlight = new Set<ServerResponse>();
  function leave(this: ServerResponse): void {
    inFlight.delete(this);
  }
  const onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    if (draining) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
      return;
    }
    inFlight.add(res);
    res.on('close', leave);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void handle.shutdown(signal);
  };
  const detach = (): void => {
    server.removeListener('request', onRequest);
    for (const s of signals as NodeJS.Signals[]) process.removeListener(s, onSignal);
  };

  const end = (result: ShutdownResult): void => {
    if (finished) return;
    finished = true;
    if (forceTimer) clearTimeout(forceTimer);
    if (sweep) clearInterval(sweep);
    detach();
    resolveDone(result);
    if (exitOpt === false) return;
    // After the `done` callbacks (microtasks) have run.
    setImmediate(() => {
      if (exitOpt === true) process.exit(result.code);
      try {
        exitOpt(result.code);
      } catch (err) {
        parts.reportError('shutdown:exit', err);
      }
    });
  };
  const force = (reason: string, why: string): void => {
    if (finished) return;
    parts.reportError('shutdown', new Error(`forced: ${why}`));
    server.closeAllConnections?.();
    try {
      parts.abandon?.();
    } catch (err) {
      parts.reportError('shutdown:abandon', err);
    }
    end({ reason, forced: true, code: 1 });
  };

  const run = async (reason: string): Promise<ShutdownResult> => {
    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    inFlight.clear();
    parts.beginShutdown();
    forceTimer = setTimeout(() => force(reason, `not finished after ${timeoutMs} ms`), timeoutMs);
    let code = 0;
    if (gracePeriodMs > 0) await sleep(gracePeriodMs);
    if (finished) return done;
    const closed = new Promise<void>((resolve) => {
      server.close((err?: Error) => {
        // ERR_SERVER_NOT_RUNNING: someone closed it already; nothing left to drain.
        if (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') {
          parts.reportError('shutdown:close', err);
          code = 1;
        }
        resolve();
      });
    });
    server.closeIdleConnections?.();
    sweep = setInterval(() => server.closeIdleConnections?.(), IDLE_SWEEP_MS);
    await closed;
    clearInterval(sweep);
    for (const [i, hook] of hooks.entries()) {
      if (finished) return done;
      try {
        await hook();
      } catch (err) {
        parts.reportError(`shutdown:beforeShutdown[${i}]`, err);
        code = 1;
      }
    }
    if (finished) return done;
    try {
      if ((await parts.shutdown()).failed) code = 1;
    } catch (err) {
      parts.reportError('shutdown:obs', err);
      code = 1;
    }
    end({ reason, forced: false, code });
    return done;
  };

  const handle: ShutdownHandle = {
    shutdown(reason = 'shutdown()'): Promise<ShutdownResult> {
      if (sequence) {
        force(reason, `second request (${reason}) while shutting down`);
        return done;
      }
      sequence = run(reason).catch((err: unknown) => {
        parts.reportError('shutdown', err);
        force(reason, 'the shutdown sequence failed');
        return done;
      });
      return sequence;
    },
    done,
    detach,
  };
  // Prepended so the header is set before the application's handler can send a response.
  server.prependListener('request', onRequest);
  for (const s of signals as NodeJS.Signals[]) process.on(s, onSignal);
  return handle;
}
