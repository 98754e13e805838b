/**
 * Small, explicit option readers. Every error names the option path and the bad
 * value, the way prom-client's `lib/validation.js` does: wrong types raise
 * `TypeError`, out-of-range values raise `RangeError`. Unknown keys are refused
 * so that a typo never silently falls back to a default.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';

/** Prefix of every construction error message. */
const PREFIX = 'express-observability:';

/** Short, safe rendering of a bad value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** Raise a TypeError naming the option. */
export function typeError(path: string, expected: string, value: unknown): never {
  throw new TypeError(`${PREFIX} option "${path}" must be ${expected}, got ${describe(value)}`);
}

/** Raise a RangeError naming the option. */
export function rangeError(path: string, expected: string, value: unknown): never {
  throw new RangeError(`${PREFIX} option "${path}" must be ${expected}, got ${describe(value)}`);
}

/** A plain record of option values. */
export type Bag = Readonly<Record<string, unknown>>;

/** Check that `value` is undefined or a plain object with only `allowed` keys. */
export function readSection(value: unknown, path: string, allowed: readonly string[]): Bag {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) typeError(path, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const full = path ? `${path}.${key}` : key;
      throw new TypeError(`${PREFIX} unknown option "${full}" (known: ${allowed.join(', ')})`);
    }
  }
  return value as Bag;
}

/** Join a section path and a key. */
export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Read an optional boolean. */
export function readBool(bag: Bag, key: string, path: string, fallback: boolean): boolean {
  const v = bag[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') typeError(join(path, key), 'a boolean', v);
  return v;
}

/** Numeric constraints for {@link readNumber}. */
export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** When true, `min` itself is not allowed. */
  exclusiveMin?: boolean;
}

/** Node's longest timer delay: a longer one fires after 1 ms instead (with a `TimeoutOverflowWarning`). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Check one number against a rule, naming `path` in the error. A duration in milliseconds (a path
 * ending in `Ms` or `Millis`) is at most {@link MAX_TIMER_MS} unless the rule says less.
 */
export function checkNumber(v: unknown, path: string, rule: NumberRule = {}): number {
  if (typeof v !== 'number' || Number.isNaN(v)) typeError(path, 'a number', v);
  if (!Number.isFinite(v)) rangeError(path, 'a finite number', v);
  if (rule.integer && !Number.isInteger(v)) rangeError(path, 'an integer', v);
  if (rule.min !== undefined && (rule.exclusiveMin ? v <= rule.min : v < rule.min)) {
    rangeError(path, `${rule.exclusiveMin ? 'greater than' : 'at least'} ${rule.min}`, v);
  }
  const max = rule.max ?? (path.endsWith('Ms') || path.endsWith('Millis') ? MAX_TIMER_MS : undefined);
  if (max !== undefined && v > max) rangeError(path, `at most ${max}`, v);
  return v;
}

/** Read an optional number. */
export function readNumber(bag: Bag, key: string, path: string, fallback: number, rule: NumberRule = {}): number {
  const v = bag[key];
  if (v === undefined) return fallback;
  return checkNumber(v, join(path, key), rule);
}

/** Read an optional string (non-empty unless `allowEmpty`). */
export function readString(bag: Bag, key: string, path: string, fallback: string, allowEmpty = false): string {
  const v = bag[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') typeError(join(path, key), 'a string', v);
  if (!allowEmpty && v.length === 0) rangeError(join(path, key), 'a non-empty string', v);
  return v;
}

/** Read an optional string that has no default. */
export function readOptionalString(bag: Bag, key: string, path: string): string | undefined {
  const v = bag[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) typeError(join(path, key), 'a non-empty string', v);
  return v;
}

/** Read an optional function. */
export function readFunction<T>(bag: Bag, key: string, path: string): T | undefined {
  const v = bag[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'function') typeError(join(path, key), 'a function', v);
  return v as T;
}

/** Read an optional one-of-these string. */
export function readEnum<T extends string>(bag: Bag, key: string, path: string, allowed: readonly T[], fallback: T): T {
  const v = bag[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    typeError(join(path, key), `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v);
  }
  return v as T;
}

/** Read an optional array of strings and regular expressions. */
export function readPatterns(bag: Bag, key: string, path: string, fallback: readonly (string | RegExp)[]): readonly (string | RegExp)[] {
  const v = bag[key];
  if (v === undefined) return fallback;
  if (!Array.isArray(v)) typeError(join(path, key), 'an array of strings or RegExps', v);
  v.forEach((item: unknown, i: number) => {
    if (typeof item !== 'string' && !(item instanceof RegExp)) typeError(`${join(path, key)}[${i}]`, 'a string or RegExp', item);
  });
  return Object.freeze([...(v as (string | RegExp)[])]);
}

/**
 * Read an optional object of HTTP request headers: names and values Node's HTTP client accepts
 * (`validateHeaderName` / `validateHeaderValue`), so that a bad one fails here, not at every send.
 */
export function readHeaders(bag: Bag, key: string, path: string): Readonly<Record<string, string>> {
  const headers = readStringRecord(bag, key, path);
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
    } catch {
      typeError(`${join(path, key)}.${name}`, 'under a valid HTTP header name', name);
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      typeError(`${join(path, key)}.${name}`, 'a valid HTTP header value (no control characters or characters beyond U+00FF)', value);
    }
  }
  return headers;
}

/** Read an optional string-to-string record. */
export function readStringRecord(bag: Bag, key: string, path: string): Readonly<Record<string, string>> {
  const v = bag[key];
  if (v === undefined) return Object.freeze({});
  if (v === null || typeof v !== 'object' || Array.isArray(v)) typeError(join(path, key), 'an object of strings', v);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') typeError(`${join(path, key)}.${k}`, 'a string', val);
    out[k] = val;
  }
  return Object.freeze(out);
}
