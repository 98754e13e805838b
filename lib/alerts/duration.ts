/**
 * Prometheus duration strings (`30s`, `5m`, `1h30m`, `30d`, `250ms`): parsed to
 * milliseconds for in-process evaluation and rendered back canonically for the
 * exported rule file, so both sides use the same windows.
 */

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds of a Prometheus duration string, or `undefined` when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  const m = DURATION.exec(text);
  if (!m) return undefined;
  let ms = 0;
  UNITS.forEach(([, factor], i) => {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * factor;
  });
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Canonical Prometheus duration string of `ms` (largest units first, `0s` for zero). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, factor] of UNITS) {
    if (unit === 'y' || unit === 'w') continue; // days read better than weeks in window names
    const n = Math.floor(rest / factor);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * factor;
    }
  }
  return out;
}
