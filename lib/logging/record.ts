/**
 * One log line as the encoders see it: a {@link LogRecord}, built once per line (by the logger's
 * format, or by the access log) and attached to the winston info object under {@link RECORD}. Each
 * sink's encoder is a function of the record: the JSON line (`json-line.ts`, stdout / file / Loki),
 * the ECS document (`ecs.ts`, Elasticsearch), the OpenTelemetry log record (`otlp.ts`).
 *
 * The winston info object itself stays the flat object the JSON line is the serialisation of
 * ({@link flatten}), for transports and formats that are not the package's.
 */
import { isoNow } from '../util/clock';
import { LEVEL, MESSAGE, type LogInfo } from './levels';

/** `info[RECORD]`: the line's {@link LogRecord}. The only package-private key on an info object. */
export const RECORD: unique symbol = Symbol.for('express-observability.log-record') as never;

/** What an access line says about its request (JSON keys: `method, route, path, status, duration_ms, ...`). */
export interface AccessFacts {
  readonly method: string;
  /** Route label (`/users/:id`, `unmatched`, `other`). */
  readonly route: string;
  /** Request URL, query included, redacted. */
  readonly path: string;
  readonly status: number;
  /** Milliseconds, rounded to 3 decimals. */
  readonly durationMs: number;
  readonly responseBytes: number | undefined;
  readonly clientAddress: string | undefined;
  /** Redacted. */
  readonly userAgent: string | undefined;
  /** True when the connection closed before the response finished. */
  readonly aborted: boolean;
}

/** Strings serialised once and shared by the JSON line and the ECS document (see {@link LogRecord.json}). */
export interface SharedJson {
  /** `JSON.stringify(message)`. */
  readonly message: string;
  /** Plain fields: the caller's fields as the end of a JSON object, `,"k":v,...}` (`}` when none). Access lines: `''`. */
  readonly fieldsTail: string;
  /** Access lines: `JSON.stringify(path)`. */
  readonly path: string | undefined;
  /** Access lines: `JSON.stringify(userAgent)`, when there is one. */
  readonly userAgent: string | undefined;
  /** Access lines: `JSON.stringify(method)`. */
  readonly method: string | undefined;
  /** Access lines: `JSON.stringify(route)`. */
  readonly route: string | undefined;
  /** Access lines: `JSON.stringify(clientAddress)`, when there is one. */
  readonly client: string | undefined;
}

/** One log line, redacted and JSON-safe (see the module comment). */
export interface LogRecord {
  /** ISO 8601. */
  readonly timestamp: string;
  readonly level: string;
  readonly message: string;
  readonly service: string | undefined;
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
  /** W3C trace flags of the active span the line was logged in (undefined: ids bound by `req.log`, or none). */
  readonly traceFlags: number | undefined;
  /** The caller's fields, in order (for a line not built by the package: every other key of its info object). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The serialised error of the line, if any. */
  readonly error: Readonly<Record<string, unknown>> | undefined;
  /** The key the error is written under: `error`, or `err` when a caller field is named `error`. */
  readonly errorKey: 'error' | 'err';
  /** Set on access lines: their request facts (their `fields` are empty and not read). */
  readonly access: AccessFacts | undefined;
  /**
   * Set on access lines, and on lines whose fields are plain: no error, no key that is an array index,
   * `__proto__`, `error`, `type`, starts with `@` or holds a `.` (so any document may put them after
   * its own fixed keys).
   */
  readonly json: SharedJson | undefined;
  /** The JSON line (stdout, file, Loki, Elasticsearch with `ecs: false`), serialised once. */
  readonly line: string;
}

/** A record's parts: everything but the line. */
export type RecordParts = Omit<LogRecord, 'line'>;

/** No fields. */
export const NO_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The access facts under their JSON keys, in line order, onto `out`. */
function putAccess(out: Record<string, unknown>, a: AccessFacts): void {
  out.type = 'access';
  out.method = a.method;
  out.route = a.route;
  out.path = a.path;
  out.status = a.status;
  out.duration_ms = a.durationMs;
  if (a.responseBytes !== undefined) out.response_bytes = a.responseBytes;
  if (a.clientAddress !== undefined) out.client_address = a.clientAddress;
  if (a.userAgent !== undefined) out.user_agent = a.userAgent;
  if (a.aborted) out.aborted = true;
}

/**
 * The flat object of a record (`timestamp, level, message, service, trace_id, span_id`, then the
 * fields or access facts, then the error): what the JSON line serialises and the winston info holds.
 */
export function flatten(r: RecordParts): LogInfo {
  const out: LogInfo = { timestamp: r.timestamp, level: r.level, message: r.message };
  if (r.service !== undefined) out.service = r.service;
  if (r.traceId !== undefined) out.trace_id = r.traceId;
  if (r.spanId !== undefined) out.span_id = r.spanId;
  if (r.access !== undefined) putAccess(out, r.access);
  else {
    const f = r.fields;
    for (const key in f) out[key] = f[key];
  }
  if (r.error !== undefined) out[r.errorKey] = r.error;
  return out;
}

/** The value a JSON line holds under `key` (what the info object holds): for Loki's stream labels. */
export function fieldOf(r: LogRecord, key: string): unknown {
  switch (key) {
    case 'timestamp':
      return r.timestamp;
    case 'level':
      return r.level;
    case 'message':
      return r.message;
    case 'service':
      return r.service ?? r.fields.service;
    case 'trace_id':
      return r.traceId ?? r.fields.trace_id;
    case 'span_id':
      return r.spanId ?? r.fields.span_id;
    default:
      break;
  }
  if (key === r.errorKey && r.error !== undefined) return r.error;
  return r.access === undefined ? r.fields[key] : accessField(r.access, key);
}

/** The value an access line holds under `key`. */
function accessField(a: AccessFacts, key: string): unknown {
  switch (key) {
    case 'type':
      return 'access';
    case 'method':
      return a.method;
    case 'route':
      return a.route;
    case 'path':
      return a.path;
    case 'status':
      return a.status;
    case 'duration_ms':
      return a.durationMs;
    case 'response_bytes':
      return a.responseBytes;
    case 'client_address':
      return a.clientAddress;
    case 'user_agent':
      return a.userAgent;
    case 'aborted':
      return a.aborted ? true : undefined;
    default:
      return undefined;
  }
}

/** `obj[key] = value`, as an own property even for `__proto__` (which an assignment would take as the prototype). */
export function setField(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * Set the JSON line of `record` (built with `line: ''`, so the object keeps its shape) from
 * `encodeLine`, and return the winston info object carrying both.
 */
export function attachRecord(record: LogRecord, level: unknown, encodeLine: (r: RecordParts, flat: LogInfo) => string): LogInfo {
  const info = flatten(record);
  const line = encodeLine(record, info);
  (record as { line: string }).line = line;
  info[LEVEL] = level;
  info[MESSAGE] = line;
  info[RECORD] = record;
  return info;
}

/** The record of an info object the package's logger built, if it is one. */
export function recordOf(info: Record<string | symbol, unknown>): LogRecord | undefined {
  return info[RECORD] as LogRecord | undefined;
}

/**
 * The record of an info object from somewhere else (a shipper used as a transport of the
 * application's own logger), already sanitised: the typed keys become the record's, every other key
 * (a non-string `service` too) stays a field; its line is `JSON.stringify(info)`.
 */
export function foreignRecord(info: Record<string, unknown>): LogRecord {
  const fields: Record<string, unknown> = {};
  const str = (k: string): string | undefined => (typeof info[k] === 'string' ? (info[k] as string) : undefined);
  for (const key of Object.keys(info)) {
    if (key === 'timestamp' || key === 'level' || key === 'message') continue;
    if ((key === 'service' || key === 'trace_id' || key === 'span_id') && typeof info[key] === 'string') continue;
    setField(fields, key, info[key]);
  }
  return {
    timestamp: str('timestamp') ?? isoNow(),
    level: String(info.level),
    message: str('message') ?? '',
    service: str('service'),
    traceId: str('trace_id'),
    spanId: str('span_id'),
    traceFlags: undefined,
    fields,
    error: undefined,
    errorKey: 'error',
    access: undefined,
    json: undefined,
    line: JSON.stringify(info),
  };
}
