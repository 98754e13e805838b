/** The `logging.spool` option: an on-disk copy of every line accepted for shipping (docs/spool.md). */
import path from 'node:path';
import { checkNumber, rangeError, readNumber, readOptionalString, readSection, typeError } from '../util/validate';

/** Options of the on-disk spool of the log shippers. */
export interface SpoolOptions {
  /**
   * Directory of the spool (created if missing; one subdirectory per shipper, `elasticsearch/`, `loki/`).
   * One process per directory: a second one is refused (lock file `dir/LOCK` holding the pid). Required.
   */
  readonly dir: string;
  /** Bound of the spool on disk, every shipper's segments together; past it new lines are dropped and counted (`reason="spool_full"`). Default `268435456` (256 MiB). */
  readonly maxBytes?: number;
  /**
   * When accepted lines reach the disk: `"always"` writes and `fdatasync`s each line before `log()` returns
   * (no loss window, slow); a number of milliseconds buffers lines and writes them every that many ms, each
   * write followed by an `fdatasync` off the main thread (a crash loses at most the last interval). Default `200`.
   */
  readonly sync?: 'always' | number;
}

/** {@link SpoolOptions} with defaults filled in. */
export interface ResolvedSpoolOptions {
  /** Absolute directory. */
  readonly dir: string;
  readonly maxBytes: number;
  /** `0` for `"always"`, else the interval in ms. */
  readonly syncMs: number;
}

/** Default `logging.spool.maxBytes`. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
/** Default `logging.spool.sync` (ms). */
export const DEFAULT_SPOOL_SYNC_MS = 200;

/** Validate `logging.spool` (undefined: no spool). */
export function resolveSpoolOptions(value: unknown, at = 'logging.spool'): ResolvedSpoolOptions | undefined {
  if (value === undefined) return undefined;
  const o = readSection(value, at, ['dir', 'maxBytes', 'sync']);
  const dir = readOptionalString(o, 'dir', at);
  if (dir === undefined) typeError(`${at}.dir`, 'a directory path', o.dir);
  const maxBytes = readNumber(o, 'maxBytes', at, DEFAULT_SPOOL_MAX_BYTES, { min: 64 * 1024, integer: true });
  let syncMs = DEFAULT_SPOOL_SYNC_MS;
  if (o.sync === 'always') syncMs = 0;
  else if (typeof o.sync === 'string') rangeError(`${at}.sync`, '"always" or an interval in milliseconds', o.sync);
  else if (o.sync !== undefined) syncMs = checkNumber(o.sync, `${at}.sync`, { min: 1, max: 60_000, integer: true });
  return Object.freeze({ dir: path.resolve(dir), maxBytes, syncMs });
}
