/**
 * The current time as an ISO 8601 UTC string (`2026-11-25T19:03:04.567Z`), formatted once per
 * millisecond: at load many log lines share a millisecond, and `toISOString()` is a large part of a
 * line's cost. Same value as `new Date().toISOString()`.
 */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

let lastMs = -1;
let lastIso = '';
