/** Log levels and the winston info-object symbols (the `triple-beam` ones, by their global keys). */

/** The logger's levels, most severe first (winston numbering: lower is more severe). */
export const LOG_LEVELS = Object.freeze({ error: 0, warn: 1, info: 2, debug: 3 });

/** A level name of {@link LOG_LEVELS}. */
export type LogLevel = keyof typeof LOG_LEVELS;

/** Level names, most severe first. */
export const LOG_LEVEL_NAMES: readonly LogLevel[] = Object.freeze(['error', 'warn', 'info', 'debug']);

/** `info[MESSAGE]`: the final serialised line (triple-beam's `Symbol.for('message')`). */
export const MESSAGE: unique symbol = Symbol.for('message') as never;
/** `info[LEVEL]`: the un-colourised level (triple-beam's `Symbol.for('level')`). */
export const LEVEL: unique symbol = Symbol.for('level') as never;
/** `info[SPLAT]`: the extra arguments of a log call (triple-beam's `Symbol.for('splat')`). */
export const SPLAT: unique symbol = Symbol.for('splat') as never;

/** A winston info object as our format emits it. */
export type LogInfo = Record<string | symbol, unknown> & { level: string; message: string };

/** Marks info objects our format (or the access log) built: JSON-safe and redacted already. */
export const SAFE: unique symbol = Symbol.for('express-observability.log-safe') as never;

/**
 * Set by our format on entries whose caller fields are plain (no error, no dotted or `@` keys):
 * where those fields start in `[MESSAGE]` and the message as JSON, so a shipper can build its
 * document around that part of the line instead of serialising the fields again.
 */
export const FIELDS_JSON: unique symbol = Symbol.for('express-observability.fields-json') as never;

/** The value under {@link FIELDS_JSON}. */
export interface FieldsJson {
  /** Index in `[MESSAGE]` of `}` (no fields) or of `,"firstField":...`. */
  readonly at: number;
  /** `JSON.stringify(message)`. */
  readonly messageJson: string;
}

/**
 * Set (to `true`) by the access log on its entries: the fields are exactly the access-line set
 * (`type, method, route, path, status, duration_ms`, optional `response_bytes, client_address,
 * user_agent, aborted, error`), so the ECS mapping can take its direct path.
 */
export const ACCESS_LINE: unique symbol = Symbol.for('express-observability.access-line') as never;

/**
 * Set by our format on entries logged inside a span: the span's W3C trace flags (the JSON line
 * carries only `trace_id`/`span_id`; the OTLP log record carries the flags too).
 */
export const TRACE_FLAGS: unique symbol = Symbol.for('express-observability.trace-flags') as never;
