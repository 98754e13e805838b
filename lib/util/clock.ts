import { performance } from 'node:perf_hooks';

/**
 * The current time as an ISO 8601 UTC string (`2026-11-25T19:03:04.567Z`), formatted once per
 * millisecond: at load many log lines share a millisecond, and `toISOString()` is a large part of a
 * line's cost. Same value as `new Date().toISOString()`.
 */
export function isoNow(): string {
  return isoAt(Date.now());
}

/** {@link isoNow} at `ms` (milliseconds since the epoch, fractions dropped), formatted once per millisecond. */
export function isoAt(epochMs: number): string {
  const ms = Math.floor(epochMs);
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

let lastMs = -1;
let lastIso = '';

/** The wall-clock time (epoch ms, as `Date.now()`) of `performanceMs`, a `performance.now()` of this process a moment ago. */
export function wallClockOf(performanceMs: number): number {
  return Date.now() - (performance.now() - performanceMs);
}
