/**
 * The spool directory of one instance: created if missing, owned by one process through a lock file
 * (`LOCK`, created with O_EXCL, holding the pid and a token of the process), and the byte budget
 * (`maxBytes`) its shippers share.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedSpoolOptions } from './spool-options';

/** Thrown when another live process holds the spool directory. */
export class SpoolLockedError extends Error {
  /** The error code, `EO_SPOOL_LOCKED`. */
  readonly code = 'EO_SPOOL_LOCKED';
  /** `dir` is held by process `pid`. */
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `express-observability: logging.spool.dir "${dir}" is in use by process ${pid} (lock file ${path.join(dir, 'LOCK')}); ` +
        'two processes must not share one spool directory: give each its own',
    );
    this.name = 'SpoolLockedError';
  }
}

/** A lock file younger than this without a pid in it is being written by its owner, not stale. */
const FRESH_LOCK_MS = 5000;

/**
 * Told apart from an earlier process that had the same pid (a restarted container often gets the
 * same one): a lock with our pid and another token was left by that process.
 */
const PROCESS_TOKEN = randomBytes(8).toString('hex');

function isAlive(pid: number, token: string | undefined): boolean {
  if (pid === process.pid) return token === PROCESS_TOKEN;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's holder: its pid, `0` for a fresh lock without one yet, `-1` when the file is gone or stale. */
function holderOf(lock: string): number {
  let text: string;
  try {
    text = readFileSync(lock, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw err;
  }
  const [pidText, token] = text.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (Number.isInteger(pid) && pid > 0) return isAlive(pid, token) ? pid : -1;
  return Date.now() - statSync(lock).mtimeMs < FRESH_LOCK_MS ? 0 : -1;
}

/** See the module comment. */
export class SpoolDirectory {
  /** The directory (absolute). */
  readonly dir: string;
  /** The resolved options. */
  readonly options: ResolvedSpoolOptions;
  /** Bytes of every segment of every shipper (written or buffered). */
  used = 0;
  readonly #lock: string;
  #released = false;

  /** Create the directory if needed and take its lock; throws {@link SpoolLockedError} when a live process holds it. */
  constructor(options: ResolvedSpoolOptions) {
    this.options = options;
    this.dir = options.dir;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new Error(`express-observability: option "logging.spool.dir": "${this.dir}" cannot be created: ${(err as Error).message}`);
    }
    this.#lock = path.join(this.dir, 'LOCK');
    this.#take();
  }

  /**
   * O_EXCL create of the lock file with our pid. A lock left by a dead process is taken over (its pid no
   * longer runs). Not atomic against two processes taking over the same stale lock at the same instant.
   */
  #take(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.#lock, 'wx', 0o644);
        try {
          writeSync(fd, `${process.pid} ${PROCESS_TOKEN}\n`);
        } finally {
          closeSync(fd);
        }
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = holderOf(this.#lock);
      if (holder >= 0) throw new SpoolLockedError(this.dir, holder);
      try {
        unlinkSync(this.#lock);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    throw new SpoolLockedError(this.dir, 0);
  }

  /** The subdirectory of shipper `name` (created if missing). */
  subdir(name: string): string {
    const d = path.join(this.dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** Remove the lock file (if it is still ours); idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      if (readFileSync(this.#lock, 'utf8').trim() === `${process.pid} ${PROCESS_TOKEN}`) unlinkSync(this.#lock);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
