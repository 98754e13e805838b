/**
 * Turns anything a caller passes as log fields into JSON-safe values, once, before
 * any transport sees them: secrets redacted (keys and token-like query parameters),
 * errors expanded (name, message, stack, cause chain), circular references and
 * BigInt made harmless. Never throws.
 */
import { REDACTED, type Redactor } from '../redaction/redactor';

/** Nesting depth past which objects are summarised as `"[Object]"`. */
const MAX_DEPTH = 8;
/** Array elements kept per array (the rest is summarised). */
const MAX_ARRAY = 200;

/** A JSON-safe rendering of `err`: name, message, stack, own enumerable fields, `cause` chain. */
export function serializeError(err: Error, r: Redactor, stack: unknown[] = [], depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let name = 'Error';
  try {
    name = typeof err.name === 'string' ? err.name : (err.constructor?.name ?? 'Error');
    out.name = name;
    out.message = typeof err.message === 'string' ? r.text(err.message) : String(err.message);
    if (typeof err.stack === 'string') out.stack = r.text(err.stack);
  } catch (e) {
    out.name = name;
    out.message = `[unreadable error: ${e instanceof Error ? e.message : String(e)}]`;
  }
  stack.push(err);
  try {
    for (const key of Object.keys(err)) {
      if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
      out[key] = r.key(key) ? REDACTED : readAndSanitize(err, key, r, stack, depth + 1);
    }
    const errors = (err as { errors?: unknown }).errors;
    if (Array.isArray(errors) && out.errors === undefined) out.errors = sanitize(errors, r, stack, depth + 1);
    if ('cause' in err && err.cause !== undefined) out.cause = sanitize(err.cause, r, stack, depth + 1);
  } finally {
    stack.pop();
  }
  return out;
}

function readAndSanitize(obj: object, key: string, r: Redactor, stack: unknown[], depth: number): unknown {
  let v: unknown;
  try {
    v = (obj as Record<string, unknown>)[key];
  } catch (e) {
    return `[unreadable: ${e instanceof Error ? e.message : String(e)}]`;
  }
  return sanitize(v, r, stack, depth);
}

/**
 * A JSON-safe copy of `value`. `stack` holds the objects being visited (for cycle
 * detection: a repeated but non-circular reference is serialised again).
 */
export function sanitize(value: unknown, r: Redactor, stack: unknown[] = [], depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return r.text(value);
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
  if (obj instanceof Error) return serializeError(obj, r, stack, depth);
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (depth >= MAX_DEPTH) return Array.isArray(obj) ? '[Array]' : '[Object]';
  if (Buffer.isBuffer(obj)) return `[Buffer ${obj.length} bytes]`;
  stack.push(obj);
  try {
    if (Array.isArray(obj)) {
      const n = Math.min(obj.length, MAX_ARRAY);
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = sanitize(obj[i], r, stack, depth + 1);
        out[i] = v === undefined ? null : v;
      }
      if (obj.length > n) out.push(`[${obj.length - n} more]`);
      return out;
    }
    if (obj instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of obj) {
        const key = String(k);
        out[key] = r.key(key) ? REDACTED : sanitize(v, r, stack, depth + 1);
      }
      return out;
    }
    if (obj instanceof Set) return sanitize([...obj], r, stack, depth);
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      try {
        return sanitize(toJSON.call(obj), r, stack, depth + 1);
      } catch (e) {
        return `[toJSON failed: ${e instanceof Error ? e.message : String(e)}]`;
      }
    }
    return sanitizeRecord(obj as Record<string, unknown>, r, stack, depth);
  } finally {
    stack.pop();
  }
}

function sanitizeRecord(obj: Record<string, unknown>, r: Redactor, stack: unknown[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    if (r.key(key)) {
      out[key] = REDACTED;
      continue;
    }
    const v = readAndSanitize(obj, key, r, stack, depth + 1);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
