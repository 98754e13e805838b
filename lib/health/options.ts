import { checkNumber, rangeError, readBool, readNumber, readSection } from '../util/validate';

/** A warn and a fail level; a reading at or above a level takes that status. */
export interface Threshold {
  readonly warn: number;
  readonly fail: number;
}

/** Levels of the built-in checks (read from the system sampler's last sample). */
export interface HealthThresholds {
  /** Event-loop delay p99 in milliseconds. Default `{ warn: 200, fail: 1000 }`. */
  readonly eventLoopDelayMs?: Partial<Threshold>;
  /** Memory used ratio (0–1, used = total − available). Default `{ warn: 0.9, fail: 0.98 }`. */
  readonly memoryRatio?: Partial<Threshold>;
  /** Filesystem used ratio per mount (0–1). Default `{ warn: 0.9, fail: 0.95 }`. */
  readonly diskRatio?: Partial<Threshold>;
}

/** Options of the health checks (`health` key of `createObservability()`). */
export interface HealthOptions {
  /** How long a check's result is reused, in ms, so a burst of probes runs each check once. Default `1000`. */
  readonly cacheTtlMs?: number;
  /** Default deadline of a check, in ms; a check still running then fails with "timed out after N ms". Default `2000`. */
  readonly timeoutMs?: number;
  /** Include the stack of a thrown error in the check's `output`. Default `false` (message only). */
  readonly errorStacks?: boolean;
  /** Register the built-in event-loop, memory and disk checks (needs the system sampler). Default `true`. */
  readonly builtins?: boolean;
  /** Make the built-in checks critical (run by `/health/ready`; a fail makes `/health` fail). Default `false`. */
  readonly builtinsCritical?: boolean;
  /** Levels of the built-in checks. */
  readonly thresholds?: HealthThresholds;
}

/** Health options with defaults resolved. */
export interface ResolvedHealthOptions {
  readonly cacheTtlMs: number;
  readonly timeoutMs: number;
  readonly errorStacks: boolean;
  readonly builtins: boolean;
  readonly builtinsCritical: boolean;
  readonly thresholds: { readonly eventLoopDelayMs: Threshold; readonly memoryRatio: Threshold; readonly diskRatio: Threshold };
}

const HEALTH_KEYS = ['cacheTtlMs', 'timeoutMs', 'errorStacks', 'builtins', 'builtinsCritical', 'thresholds'] as const;
const THRESHOLD_KEYS = ['eventLoopDelayMs', 'memoryRatio', 'diskRatio'] as const;

function readThreshold(value: unknown, path: string, defaults: Threshold, max?: number): Threshold {
  const t = readSection(value, path, ['warn', 'fail']);
  const rule = { min: 0, ...(max !== undefined ? { max } : {}) };
  const warn = t.warn === undefined ? defaults.warn : checkNumber(t.warn, `${path}.warn`, rule);
  const fail = t.fail === undefined ? defaults.fail : checkNumber(t.fail, `${path}.fail`, rule);
  if (warn > fail) rangeError(`${path}.warn`, `at most ${path}.fail (${fail})`, warn);
  return Object.freeze({ warn, fail });
}

/** Validate the `health` section and resolve its defaults. */
export function resolveHealthOptions(value: unknown): ResolvedHealthOptions {
  const h = readSection(value, 'health', HEALTH_KEYS);
  const t = readSection(h.thresholds, 'health.thresholds', THRESHOLD_KEYS);
  return Object.freeze({
    cacheTtlMs: readNumber(h, 'cacheTtlMs', 'health', 1000, { min: 0, integer: true }),
    timeoutMs: readNumber(h, 'timeoutMs', 'health', 2000, { min: 1, integer: true }),
    errorStacks: readBool(h, 'errorStacks', 'health', false),
    builtins: readBool(h, 'builtins', 'health', true),
    builtinsCritical: readBool(h, 'builtinsCritical', 'health', false),
    thresholds: Object.freeze({
      eventLoopDelayMs: readThreshold(t.eventLoopDelayMs, 'health.thresholds.eventLoopDelayMs', { warn: 200, fail: 1000 }),
      memoryRatio: readThreshold(t.memoryRatio, 'health.thresholds.memoryRatio', { warn: 0.9, fail: 0.98 }, 1),
      diskRatio: readThreshold(t.diskRatio, 'health.thresholds.diskRatio', { warn: 0.9, fail: 0.95 }, 1),
    }),
  });
}
