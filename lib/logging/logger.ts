/**
 * The shared winston logger: JSON lines `timestamp, level, message, service, trace_id,
 * span_id, ...fields`, correlated with the active OpenTelemetry span, secrets redacted
 * and errors expanded before any transport sees the entry.
 */
import { isoNow } from '../util/clock';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { activeSpanIds } from '../tracing/active';
import { deliver, transportLevel } from './fanout';
import { REDACTED, type Redactor } from '../redaction/redactor';
import { FIELDS_JSON, LEVEL, LOG_LEVELS, MESSAGE, SAFE, SPLAT, TRACE_FLAGS, type FieldsJson, type LogInfo, type LogLevel } from './levels';
import { sanitize, serializeError } from './serialize';

/** The logger users see: a winston logger with levels error/warn/info/debug, `warning` as an alias of `warn`. */
export type ObservabilityLogger = winston.Logger;

/** Keys the logger owns; same-named caller fields are not copied (trace ids bound by `child()` are used as a fallback). */
const RESERVED = new Set(['timestamp', 'level', 'message', 'service', 'trace_id', 'span_id']);

/** Settings of {@link createLogger}. */
export interface LoggerSettings {
  readonly service: string;
  readonly level: LogLevel;
  /** The instance's redaction policy. */
  readonly redactor: Redactor;
  readonly transports: readonly TransportStream[];
}

function messageText(message: unknown, r: Redactor): string {
  if (typeof message === 'string') return r.text(message);
  if (message === undefined || message === null) return '';
  const safe = sanitize(message, r);
  return typeof safe === 'string' ? safe : (JSON.stringify(safe) ?? String(safe));
}

/**
 * The winston format doing correlation, redaction and serialisation in one pass. It
 * returns a new info object (the caller's fields are never mutated) whose
 * `[MESSAGE]` is the JSON line.
 */
export class CorrelationFormat {
  /** winston passes these to `transform`; unused. */
  readonly options: Record<string, unknown> = {};
  readonly #service: string;
  readonly #serviceJson: string;
  readonly #redactor: Redactor;

  /** Create the format for `service`. */
  constructor(service: string, redactor: Redactor) {
    this.#service = service;
    this.#serviceJson = JSON.stringify(service);
    this.#redactor = redactor;
  }

  /** Build the output entry. */
  transform(raw: Record<string | symbol, unknown>): LogInfo {
    const r = this.#redactor;
    let message: unknown = raw.message;
    let err: Error | undefined;
    const splat = raw[SPLAT];
    if (raw instanceof Error) {
      err = raw;
      message = raw.message;
    } else if (message instanceof Error) {
      err = message;
      message = message.message;
    } else if (Array.isArray(splat) && splat[0] instanceof Error) {
      // logger.error('failed', err): winston appended err.message to the message and copied its stack.
      err = splat[0];
      const suffix = ` ${err.message}`;
      if (typeof message === 'string' && err.message && message.endsWith(suffix)) message = message.slice(0, -suffix.length);
    }
    const ids = activeSpanIds();
    const out: LogInfo = {
      timestamp: isoNow(),
      level: String(raw.level),
      message: messageText(message, r),
      service: this.#service,
    };
    if (ids) {
      out.trace_id = ids.traceId;
      out.span_id = ids.spanId;
      out[TRACE_FLAGS] = ids.traceFlags;
    } else if (typeof raw.trace_id === 'string') {
      out.trace_id = raw.trace_id;
      if (typeof raw.span_id === 'string') out.span_id = raw.span_id;
    }
    const errKeys = err ? new Set(['stack', 'cause', ...Object.keys(err)]) : undefined;
    const stack: unknown[] = [];
    // Field names that could collide with ECS's dotted names disable the shippers' string fast path.
    let plainKeys = err === undefined;
    for (const key of Object.keys(raw)) {
      if (RESERVED.has(key) || errKeys?.has(key)) continue;
      if (plainKeys && (key.charCodeAt(0) === 64 || key.includes('.') || key === 'error' || key === 'type')) plainKeys = false;
      if (r.key(key)) {
        out[key] = REDACTED;
        continue;
      }
      let v: unknown;
      try {
        v = sanitize(raw[key], r, stack, 0);
      } catch (e) {
        v = `[unserialisable: ${e instanceof Error ? e.message : String(e)}]`;
      }
      if (v !== undefined) out[key] = v;
    }
    if (err) {
      const e = serializeError(err, r);
      // logger.error(err): winston used the error itself as the info object and set `level` on it.
      if ((err as unknown) === raw) delete e.level;
      out[out.error === undefined ? 'error' : 'err'] = e;
    }
    out[LEVEL] = raw[LEVEL] ?? out.level;
    const line = JSON.stringify(out);
    out[MESSAGE] = line;
    out[SAFE] = true;
    if (plainKeys) {
      // Where the caller's fields start in the line, so shippers can reuse that part of the JSON verbatim.
      const messageJson = JSON.stringify(out.message);
      let head = `{"timestamp":"${out.timestamp}","level":${JSON.stringify(out.level)},"message":${messageJson},"service":${this.#serviceJson}`;
      if (out.trace_id !== undefined) head += `,"trace_id":${JSON.stringify(out.trace_id)}`;
      if (out.span_id !== undefined) head += `,"span_id":${JSON.stringify(out.span_id)}`;
      if (line.startsWith(head)) out[FIELDS_JSON] = { at: head.length, messageJson } satisfies FieldsJson;
    }
    return out;
  }
}

/** Create the instance's logger. */
export function createLogger(s: LoggerSettings): ObservabilityLogger {
  const logger = winston.createLogger({
    levels: { ...LOG_LEVELS },
    level: s.level,
    format: new CorrelationFormat(s.service, s.redactor) as unknown as winston.Logform.Format,
    transports: [...s.transports],
    exitOnError: false,
  });
  // `warning` (the seed's name) as an alias; a plain function so children (Object.create) keep their fields.
  Object.defineProperty(logger, 'warning', {
    value: function warning(this: winston.Logger, ...args: unknown[]) {
      return (this.warn as (...a: unknown[]) => winston.Logger)(...args);
    },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return logger;
}

/**
 * True when some transport of `logger` would take a line at `level` (winston's
 * `isLevelEnabled` without its per-call closure; the access log asks once per request).
 */
export function acceptsLevel(logger: ObservabilityLogger, level: string): boolean {
  if (logger.silent) return false;
  const levels = logger.levels;
  const value = levels[level];
  if (value === undefined) return false;
  const loggerLevel = levels[logger.level];
  if (loggerLevel === undefined) return false;
  const transports = logger.transports;
  if (transports.length === 0) return loggerLevel >= value;
  for (const t of transports) if (transportLevel(t, levels, loggerLevel) >= value) return true;
  return false;
}

/**
 * Hand a finished entry (with `[MESSAGE]` already set) straight to the logger's
 * transports, honouring the logger's and each transport's level and format, without
 * winston's per-entry stream machinery. The access log uses this on the request path.
 */
export function writeDirect(logger: ObservabilityLogger, info: LogInfo): void {
  if (logger.silent) return;
  const levels = logger.levels;
  const value = levels[info.level];
  if (value === undefined) return;
  deliver(logger.transports, levels, levels[logger.level] ?? 0, value, info);
}
