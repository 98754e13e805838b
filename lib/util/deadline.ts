/** What {@link withDeadline} resolves to when the deadline passed before the work settled. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Options of {@link withDeadline}. */
export interface DeadlineOptions {
  /**
   * Whether the deadline timer may keep the process alive. Default `false` (the timer is
   * unref'd); `true` where the wait itself must finish before exit (a shutdown flush).
   */
  readonly holdOpen?: boolean;
}

/**
 * Wait for `work` at most `ms` milliseconds: resolves to its value, or to {@link TIMED_OUT} when the
 * deadline passes first; rejects when `work` rejects first. The timer is always cleared, and
 * `work` itself is neither cancelled nor awaited past the deadline (abort it yourself if it should stop).
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, options?: DeadlineOptions): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
    if (options?.holdOpen !== true) timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
