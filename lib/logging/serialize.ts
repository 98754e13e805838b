/**
 * Turns anything a caller passes as log fields into JSON-safe values, once, before
 * any transport sees them: secrets redacted (keys and token-like query parameters),
 * errors expanded (name, message, stack, cause chain), circular references and
 * BigInt made harmless. Never throws.
 */
import { REDACTED, redactUrl } from '../util/redact';

/** Nesting depth past which objects are summarised as `"[Object]"`. */
const MAX_DEPTH = 8;
/** Array elements kept per array (the rest is summarised). */
const MAX_ARRAY = 200;

/** What the sanitiser needs: the instance's secret-key predicate. */
export type SecretMatcher = (key: string) => boolean;

/** Redact token-like query parameters inside a string that looks like it carries a query. */
export function redactString(s: string, isSecret: SecretMatcher): string {
  const q = s.indexOf('?');
  if (q === -1 || s.indexOf('=', q) === -1) return s;
  return redactUrl(s, isSecret);
}

/** A JSON-safe rendering of `err`: name, message, stack, own enumerable fields, `cause` chain. */
export function serializeError(err: Error, isSecret: SecretMatcher, stack: unknown[] = [], depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let name = 'Error';
  try {
    name = typeof err.name === 'string' ? err.name : (err.constructor?.name ?? 'Error');
    out.name = name;
    out.message = typeof err.message === 'string' ? redactString(err.message, isSecret) : String(err.message);
    if (typeof err.stack === 'string') out.stack = redactString(err.stack, isSecret);
  } catch (e) {
    out.name = name;
    out.message = `[unreadable error: ${e instanceof Error ? e.message : String(e)}]`;
  }
  stack.push(err);
  try {
    for (const key of Object.keys(err)) {
      if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
      out[key] = isSecret(key) ? REDACTED : readAndSanitize(err, key, isSecret, stack, depth + 1);
    }
    const errors = (err as { errors?: unknown }).errors;
    if (Array.isArray(errors) && out.errors === undefined) out.errors = sanitize(errors, isSecret, stack, depth + 1);
    if ('cause' in err && err.cause !== undefined) out.cause = sanitize(err.cause, isSecret, stack, depth + 1);
  } finally {
    stack.pop();
  }
  return out;
}

function readAndSanitize(obj: object, key: string, isSecret: SecretMatcher, stack: unknown[], depth: number): unknown {
  let v: unknown;
  try {
    v = (obj as Record<string, unknown>)[key];
  } catch (e) {
    return `[unreadable: ${e instanceof Error ? e.message : String(e)}]`;
  }
  return sanitize(v, isSecret, stack, depth);
}

/**
 * A JSON-safe copy of `value`. `stack` holds the objects being visited (for cycle
 * detection: a repeated but non-circular reference is serialised again).
 */
export function sanitize(value: unknown, isSecret: SecretMatcher, stack: unknown[] = [], depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return redactString(value, isSecret);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
      return undefined;
    case 'symbol':
      return value.toString();
    default:
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (stack.includes(obj)) return '[Circular]';
  if (obj instanceof Error) return serializeError(obj, isSecret, stack, depth);
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (depth >= MAX_DEPTH) return Array.isArray(obj) ? '[Array]' : '[Object]';
  if (Buffer.isBuffer(obj)) return `[Buffer ${obj.length} bytes]`;
  stack.push(obj);
  try {
    if (Array.isArray(obj)) {
      const n = Math.min(obj.length, MAX_ARRAY);
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = sanitize(obj[i], isSecret, stack, depth + 1);
        out[i] = v === undefined ? null : v;
      }
      if (obj.length > n) out.push(`[${obj.length - n} more]`);
      return out;
    }
    if (obj instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of obj) {
        const key = String(k);
        out[key] = isSecret(key) ? REDACTED : sanitize(v, isSecret, stack, depth + 1);
      }
      return out;
    }
    if (obj instanceof Set) return sanitize([...obj], isSecret, stack, depth);
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      try {
        return sanitize(toJSON.call(obj), isSecret, stack, depth + 1);
      } catch (e) {
        return `[toJSON failed: ${e instanceof Error ? e.message : String(e)}]`;
      }
    }
    return sanitizeRecord(obj as Record<string, unknown>, isSecret, stack, depth);
  } finally {
    stack.pop();
  }
}

function sanitizeRecord(obj: Record<string, unknown>, isSecret: SecretMatcher, stack: unknown[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    if (isSecret(key)) {
      out[key] = REDACTED;
      continue;
    }
    const v = readAndSanitize(obj, key, isSecret, stack, depth + 1);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
