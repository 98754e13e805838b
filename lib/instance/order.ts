/**
 * Who takes part in each request, in this order: tracing enters the span's context (everything after
 * it runs inside the span), logging reads the span's ids for `req.log` and the access line, the
 * dashboard reads both.
 */
export const PARTICIPANT_ORDER = ['tracing', 'logging', 'dashboard'] as const;

/** A subsystem that takes part in requests, by its place in {@link PARTICIPANT_ORDER}. */
export type ParticipantRole = (typeof PARTICIPANT_ORDER)[number];

/**
 * When each shutdown step runs (lower first): readiness fails at once; requests that ended in this
 * event-loop turn reach their participants (not left to the turn's end); spans are flushed before logs
 * (the last log lines may describe failed exports); timers and the dashboard stop after the flushes
 * (they feed nothing that is still delivered); the request watch ends last, once requests ended.
 */
export const SHUTDOWN_ORDER = {
  readiness: 0,
  finishedRequests: 10,
  tracing: 50,
  logging: 60,
  timers: 90,
  requestWatch: 95,
} as const;
