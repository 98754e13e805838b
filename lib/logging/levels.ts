/**
 * Log levels and the winston info-object symbols (the `triple-beam` ones, by their global keys). The
 * package's own key on an info object, its line's record, is `RECORD` in `record.ts`.
 */

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
