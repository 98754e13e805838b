/**
 * Exponential backoff shared by the log shippers' batch queue and the alert notifiers.
 */

/**
 * The delay before retry number `attempt` (0 for the first retry): `initialMs * 2^attempt`, capped at
 * `maxMs` (default: no cap). The exponent stops growing at 30, so the result is always finite.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs = Infinity): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}

/**
 * "Equal jitter": a delay drawn uniformly from `[ms / 2, ms)`, so retries of many clients spread out
 * while each still waits at least half the backoff. `random` defaults to `Math.random`.
 */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return ms / 2 + (random() * ms) / 2;
}

/** A sleep that {@link WakeableSleep.wake} ends early. */
export interface WakeableSleep {
  /** Settles when the time is up or `wake()` was called, whichever comes first. */
  readonly done: Promise<void>;
  /** End the sleep now (idempotent). */
  readonly wake: () => void;
}

/**
 * Sleep `ms` milliseconds, interruptibly (a shutdown wakes the retry loop instead of waiting out its
 * backoff). The timer is unref'd unless `holdOpen` is true.
 */
export function wakeableSleep(ms: number, holdOpen = false): WakeableSleep {
  let wake!: () => void;
  const done = new Promise<void>((resolve) => {
    const t = setTimeout(() => wake(), ms);
    if (!holdOpen) t.unref();
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
  return { done, wake };
}
