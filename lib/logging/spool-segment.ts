/** A segment file of the spool (lib/logging/spool.ts) and where a queued line sits in one. */
import { unlinkSync } from 'node:fs';

/** One segment file. */
export class SpoolSegment {
  /** Records appended (written or buffered); for a replayed segment, the valid records read. */
  records = 0;
  /** Records acknowledged or refused for good. */
  settled = 0;
  /** Bytes appended (written or buffered), or the file's size. */
  bytes = 0;
  /** No more appends. */
  sealed = false;
  /** Written while the memory queue was full: its lines are queued only when it is read back. */
  diskOnly = false;
  deleted = false;
  fd = -1;
  ackFd = -1;
  /** fdatasync calls in flight on `fd` (the fd is closed after the last). */
  syncing = 0;
  closeWhenSynced = false;
  /** Create the handle of segment `path`. */
  constructor(readonly path: string) {}
  /** The ack file's path. */
  get ackPath(): string {
    return this.path.slice(0, -4) + '.ack';
  }
}

/** Where a queued line sits in the spool (set by `Spool.append`; `seg` undefined: not spooled). */
export interface SpoolRef {
  seg: SpoolSegment | undefined;
  ord: number;
}

/** Delete `file`; a file already gone is fine. */
export function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
