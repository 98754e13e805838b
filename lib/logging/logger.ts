/**
 * The shared winston logger: JSON lines `timestamp, level, message, service, trace_id,
 * span_id, ...fields`, correlated with the active OpenTelemetry span, secrets redacted
 * and errors expanded before any transport sees the entry. winston itself is loaded when
 * the logger is first asked for ({@link SharedLogger}).
 */
import { isoNow } from '../util/clock';
import type winston from 'winston';
import type TransportStream from 'winston-transport';
import { activeSpanIds } from '../tracing/active';
import { deliver, transportLevel } from './fanout';
import { REDACTED, type Redactor } from '../redaction/redactor';
import { LEVEL, LOG_LEVELS, SPLAT, type LogInfo, type LogLevel } from './levels';
import { encodeLine, sharedJson } from './json-line';
import { attachRecord, setField, type LogRecord } from './record';
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

/** The error a log call carries: `logger.error(err)`, `logger.info({ message: err })`, `logger.error('failed', err)`. */
function callerError(raw: Record<string | symbol, unknown>): Error | undefined {
  if (raw instanceof Error) return raw;
  if (raw.message instanceof Error) return raw.message;
  const splat = raw[SPLAT];
  return Array.isArray(splat) && splat[0] instanceof Error ? splat[0] : undefined;
}

/** The message of a log call whose error is `err`. */
function callerMessage(raw: Record<string | symbol, unknown>, err: Error | undefined): unknown {
  const message = raw.message;
  if (err === undefined) return message;
  if ((err as unknown) === raw || message === err) return err.message;
  // logger.error('failed', err): winston appended err.message to the message and copied its stack.
  const suffix = ` ${err.message}`;
  return typeof message === 'string' && err.message && message.endsWith(suffix) ? message.slice(0, -suffix.length) : message;
}

/**
 * Copy the caller's fields of `raw` (not the logger's own keys, not the error's) into `fields`,
 * redacted and JSON-safe. True when they are plain (see `LogRecord.json` in record.ts).
 */
function copyFields(raw: Record<string, unknown>, err: Error | undefined, r: Redactor, fields: Record<string, unknown>): boolean {
  const errKeys = err ? new Set(['stack', 'cause', ...Object.keys(err)]) : undefined;
  const stack: unknown[] = [];
  let plain = err === undefined;
  for (const key of Object.keys(raw)) {
    if (RESERVED.has(key) || errKeys?.has(key)) continue;
    if (plain) {
      const c = key.charCodeAt(0);
      // `@`, digits (array-index keys come first in JSON.stringify), dotted and ECS-mapped names.
      if (c === 64 || (c >= 48 && c <= 57) || key.includes('.') || key === 'error' || key === 'type' || key === '__proto__') plain = false;
    }
    if (r.key(key)) {
      setField(fields, key, REDACTED);
      continue;
    }
    let v: unknown;
    try {
      v = sanitize(raw[key], r, stack, 0);
    } catch (e) {
      v = `[unserialisable: ${e instanceof Error ? e.message : String(e)}]`;
    }
    if (v !== undefined) setField(fields, key, v);
  }
  return plain;
}

/**
 * The winston format doing correlation, redaction and serialisation in one pass: it builds the
 * line's {@link LogRecord} and returns a new info object (the caller's fields are never mutated)
 * carrying it, with `[MESSAGE]` set to the JSON line.
 */
export class CorrelationFormat {
  /** winston passes these to `transform`; unused. */
  readonly options: Record<string, unknown> = {};
  readonly #service: string;
  readonly #redactor: Redactor;

  /** Create the format for `service`. */
  constructor(service: string, redactor: Redactor) {
    this.#service = service;
    this.#redactor = redactor;
  }

  /** Build the output entry. */
  transform(raw: Record<string | symbol, unknown>): LogInfo {
    const r = this.#redactor;
    const err = callerError(raw);
    const ids = activeSpanIds();
    const timestamp = isoNow();
    const level = String(raw.level);
    const text = messageText(callerMessage(raw, err), r);
    let traceId: string | undefined;
    let spanId: string | undefined;
    if (ids) {
      traceId = ids.traceId;
      spanId = ids.spanId;
    } else if (typeof raw.trace_id === 'string') {
      traceId = raw.trace_id;
      if (typeof raw.span_id === 'string') spanId = raw.span_id;
    }
    const fields: Record<string, unknown> = {};
    const plain = copyFields(raw, err, r, fields);
    let error: Record<string, unknown> | undefined;
    if (err) {
      error = serializeError(err, r);
      // logger.error(err): winston used the error itself as the info object and set `level` on it.
      if ((err as unknown) === raw) delete error.level;
    }
    const record: LogRecord = {
      timestamp,
      level,
      message: text,
      service: this.#service,
      traceId,
      spanId,
      traceFlags: ids?.traceFlags,
      fields,
      error,
      errorKey: fields.error === undefined ? 'error' : 'err',
      access: undefined,
      json: plain ? sharedJson(text, fields) : undefined,
      line: '',
    };
    return attachRecord(record, raw[LEVEL] ?? level, encodeLine);
  }
}

/** Create a winston logger with `format` over the settings' transports (winston is loaded now). */
function createLogger(s: LoggerSettings, format: CorrelationFormat): ObservabilityLogger {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy loading (start-up cost)
  const { createLogger: create } = require('winston') as typeof winston;
  const logger = create({
    levels: { ...LOG_LEVELS },
    level: s.level,
    format: format as unknown as winston.Logform.Format,
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

/** What the direct path reads of a logger: the winston logger once it exists, the settings until then. */
interface LoggerView {
  readonly silent?: boolean;
  readonly levels: Readonly<Record<string, number>>;
  readonly level: string;
  readonly transports: readonly TransportStream[];
}

/**
 * True when some transport of `logger` would take a line at `level` (winston's
 * `isLevelEnabled` without its per-call closure; the access log asks once per request).
 */
function acceptsLevel(logger: LoggerView, level: string): boolean {
  if (logger.silent) return false;
  return levelEnabled(logger, level);
}

/** winston's `isLevelEnabled`: the logger's level, or some transport's, lets `level` through. */
function levelEnabled(logger: LoggerView, level: string): boolean {
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
function writeDirect(logger: LoggerView, info: LogInfo): void {
  if (logger.silent) return;
  const levels = logger.levels;
  const value = levels[info.level];
  if (value === undefined) return;
  deliver(logger.transports, levels, levels[logger.level] ?? 0, value, info);
}

/**
 * The instance's logger and the package's own way to it. The winston logger (and winston, ~3 MB and
 * ~18 ms to load) is made when {@link SharedLogger.logger} is first read: by the application
 * (`obs.logger`), or by a request's `req.log`. Until then the package's own lines (the access log,
 * the alerts' and the router's warnings) are formatted by the same {@link CorrelationFormat} and
 * handed straight to the same transports, so they are the same lines either way.
 */
export class SharedLogger {
  readonly #s: LoggerSettings;
  readonly #format: CorrelationFormat;
  /** The settings as a {@link LoggerView}, until the winston logger exists. */
  readonly #settings: LoggerView;
  #logger: ObservabilityLogger | undefined;

  /** A logger of `s`; `silent` writes nothing (what `logging.enabled: false` uses). */
  constructor(s: LoggerSettings, silent = false) {
    this.#s = s;
    this.#format = new CorrelationFormat(s.service, s.redactor);
    this.#settings = { silent, levels: { ...LOG_LEVELS }, level: s.level, transports: [...s.transports] };
  }

  /** The winston logger, made on first use. */
  get logger(): ObservabilityLogger {
    if (this.#logger === undefined) {
      const logger = createLogger(this.#s, this.#format);
      if (this.#settings.silent) logger.silent = true;
      this.#logger = logger;
    }
    return this.#logger;
  }

  /** What the direct path reads: the winston logger's current levels and transports once it exists. */
  get #view(): LoggerView {
    return this.#logger ?? this.#settings;
  }

  /** The level table. */
  get levels(): Readonly<Record<string, number>> {
    return this.#view.levels;
  }

  /** The logger's own level. */
  get level(): string {
    return this.#view.level;
  }

  /** True when some transport would take a line at `level` (false while silent). */
  accepts(level: string): boolean {
    return acceptsLevel(this.#view, level);
  }

  /** winston's `isLevelEnabled(level)`, without making the logger. */
  isLevelEnabled(level: string): boolean {
    return this.#logger === undefined ? levelEnabled(this.#settings, level) : this.#logger.isLevelEnabled(level);
  }

  /** Hand a finished entry to the transports (see {@link writeDirect}). */
  write(info: LogInfo): void {
    writeDirect(this.#view, info);
  }

  /** Log one of the package's own lines: through winston once the logger exists, else formatted and written here. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (this.#logger !== undefined) {
      this.#logger[level](message, fields);
      return;
    }
    if (!this.accepts(level)) return;
    this.write(this.#format.transform({ ...fields, level, message, [LEVEL]: level }));
  }
}
