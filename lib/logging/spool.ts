/**
 * The on-disk spool of one shipper (docs/spool.md): every accepted line is appended to the current
 * segment file (`<seq>.seg`, records of lib/logging/spool-format.ts); a line the backend acknowledged,
 * or refused for good, is noted in the segment's ack file (`<seq>.ack`, `from-to` lines); a segment is
 * deleted once it is sealed and every line in it is settled. At start the segments left by an earlier
 * process are replayed oldest first, skipping acknowledged lines. Appends go to a memory buffer that is
 * written with one `writeSync` every `sync` ms (then `fdatasync`ed on the thread pool), or written and
 * synced per line with `sync: "always"`.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { SpoolDirectory } from './spool-dir';
import { SpoolSegment, unlinkQuiet, type SpoolRef } from './spool-segment';
import { crc32, parseAcks, parseRecords, RECORD_HEADER, type SpoolRecord } from './spool-format';

export { SpoolSegment, type SpoolRef } from './spool-segment';

/** The spool's state, for the metrics and the health check. */
export interface SpoolStats {
  /** Bytes of this shipper's segments on disk or buffered. */
  readonly bytes: number;
  readonly segments: number;
  /** Lines appended or read back and not yet settled (the segments of an earlier process count once read). */
  readonly lines: number;
  /** Bytes accepted but not yet written to the file (what a process crash would lose now). */
  readonly unwrittenBytes: number;
}

const NAME = /^(\d{12})\.seg$/;
const BUFFER_BYTES = 1024 * 1024;

/** See the module comment. */
export class Spool {
  readonly #dir: SpoolDirectory;
  readonly #path: string;
  readonly #segmentBytes: number;
  readonly #syncMs: number;
  readonly #reportError: (err: unknown) => void;
  readonly #live: SpoolSegment[] = [];
  readonly #backlog: SpoolSegment[] = [];
  #cur: SpoolSegment | undefined;
  #nextSeq = 1;
  #buf = Buffer.allocUnsafe(BUFFER_BYTES);
  #len = 0;
  #closed = false;
  /** Lines go to disk only (the memory queue was full) until the reader has caught up. */
  #overflow = false;

  /** Open the spool of shipper `name` in `dir`; segments found there become the replay backlog. */
  constructor(dir: SpoolDirectory, name: string, segmentBytes: number, reportError: (err: unknown) => void) {
    this.#dir = dir;
    this.#path = dir.subdir(name);
    this.#segmentBytes = segmentBytes;
    this.#syncMs = dir.options.syncMs;
    this.#reportError = reportError;
    const names = readdirSync(this.#path).filter((n) => NAME.test(n)).sort();
    for (const n of names) {
      const seg = new SpoolSegment(path.join(this.#path, n));
      seg.bytes = statSync(seg.path).size;
      seg.sealed = true;
      dir.used += seg.bytes;
      this.#backlog.push(seg);
      this.#nextSeq = Number(NAME.exec(n)?.[1]) + 1;
    }
  }

  /** The directory of this shipper's segments. */
  get path(): string {
    return this.#path;
  }

  /** Size of the next segment to replay, or undefined when none is left. */
  get backlogBytes(): number | undefined {
    return this.#backlog[0]?.bytes;
  }

  /**
   * Read the oldest segment not yet replayed: its unacknowledged records (to queue, with `seg`/`ord` set
   * by the caller) and whether it ended in a torn record (skipped).
   */
  readBacklog(): { seg: SpoolSegment; records: SpoolRecord[]; torn: boolean } | undefined {
    const seg = this.#backlog.shift();
    if (!seg) return undefined;
    const { records, torn } = parseRecords(readFileSync(seg.path));
    let acked: (ord: number) => boolean = () => false;
    try {
      acked = parseAcks(readFileSync(seg.ackPath, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const open = records.filter((r) => !acked(r.ord));
    seg.records = records.length;
    seg.settled = records.length - open.length;
    this.#live.push(seg);
    if (seg.settled >= seg.records) this.#delete(seg);
    return { seg, records: open, torn };
  }

  /** Lines on disk that are not in the memory queue: disk-only ones, and those of segments not yet read back (once counted). */
  get unqueued(): number {
    let n = this.#overflow && this.#cur ? this.#cur.records : 0;
    for (const s of this.#backlog) n += s.records;
    return n;
  }

  /** True while lines go to disk only (see {@link Spool.append}'s `diskOnly`). */
  get overflowing(): boolean {
    return this.#overflow;
  }

  /** Bytes of the disk-only segment being written (the next one to read back once it is sealed). */
  get overflowBytes(): number {
    return this.#overflow && this.#cur ? this.#cur.bytes : 0;
  }

  /**
   * The reader has caught up with the disk-only lines: seal the segment they are being written to, so it
   * joins the backlog, and send new lines through the memory queue again.
   */
  endOverflow(): void {
    if (!this.#overflow) return;
    this.#overflow = false;
    if (this.#cur && this.#cur.records > 0) this.#seal();
    else if (this.#cur) this.#cur.diskOnly = false;
  }

  /**
   * Append `src[start, end)` as one record and point `ref` at it; false (nothing written) when the
   * directory's `maxBytes` would be exceeded. With `sync: "always"` the record is on disk when this returns.
   * `diskOnly` (the memory queue is full) starts a segment whose lines are queued only when it is read
   * back, after the segments before it; every later line goes there too until {@link Spool.endOverflow}.
   */
  append(src: Buffer, start: number, end: number, ref: SpoolRef, diskOnly = false): boolean {
    const len = end - start;
    const size = len + RECORD_HEADER;
    if (this.#closed || this.#dir.used + size > this.#dir.options.maxBytes) return false;
    let cur = this.#cur;
    if (diskOnly && !this.#overflow) {
      this.#overflow = true;
      cur = undefined;
    }
    if (cur === undefined || (cur.records > 0 && cur.bytes + size > this.#segmentBytes)) cur = this.#rotate();
    if (this.#len + size > this.#buf.length) {
      this.write();
      if (size > this.#buf.length) this.#buf = Buffer.allocUnsafe(size);
    }
    const b = this.#buf;
    const pos = this.#len;
    b.writeUInt32LE(len, pos);
    src.copy(b, pos + RECORD_HEADER, start, end);
    b.writeUInt32LE(crc32(b, pos + RECORD_HEADER, pos + size), pos + 4);
    this.#len = pos + size;
    ref.seg = cur;
    ref.ord = cur.records++;
    cur.bytes += size;
    this.#dir.used += size;
    if (this.#syncMs === 0) this.write();
    return true;
  }

  /** Seal the current segment (its bytes written first) and open the next. */
  #rotate(): SpoolSegment {
    this.#seal();
    const seg = new SpoolSegment(path.join(this.#path, `${String(this.#nextSeq++).padStart(12, '0')}.seg`));
    seg.fd = openSync(seg.path, 'a', 0o600);
    seg.diskOnly = this.#overflow;
    this.#live.push(seg);
    this.#cur = seg;
    return seg;
  }

  /** Seal the current segment (its buffered bytes written first); the next append opens a new one. */
  #seal(): void {
    const old = this.#cur;
    if (old) this.write();
    this.#cur = undefined;
    if (old) {
      old.sealed = true;
      if (old.diskOnly && old.records > 0) {
        // Read back (and queued) later, oldest first, like the segments of an earlier process.
        this.#closeFd(old);
        this.#live.splice(this.#live.indexOf(old), 1);
        this.#backlog.push(old);
      } else if (old.settled >= old.records) this.#delete(old);
      else this.#closeFd(old);
    }
  }

  /** Write the buffered records to the current segment, then fdatasync it (inline with `sync: "always"` or `final`, else on the thread pool). */
  write(final = false): void {
    const seg = this.#cur;
    if (this.#len === 0 || !seg || seg.fd < 0) return;
    try {
      let off = 0;
      while (off < this.#len) off += writeSync(seg.fd, this.#buf, off, this.#len - off);
    } catch (err) {
      // The lines stay queued in memory and are still shipped; only their crash safety is lost.
      this.#reportError(err);
    }
    this.#len = 0;
    if (this.#syncMs === 0 || final) {
      fdatasyncSync(seg.fd);
      return;
    }
    seg.syncing++;
    fdatasync(seg.fd, (err) => {
      seg.syncing--;
      if (err) this.#reportError(err);
      if (seg.syncing === 0 && seg.closeWhenSynced) this.#closeFd(seg);
    });
  }

  /** Mark `refs` settled (delivered, or refused for good): noted in the ack files; segments all settled are deleted. */
  settle(refs: readonly SpoolRef[]): void {
    let i = 0;
    while (i < refs.length) {
      const first = refs[i] as SpoolRef;
      const seg = first.seg;
      i++;
      if (seg === undefined) continue;
      first.seg = undefined;
      let a = first.ord;
      let b = a;
      let n = 1;
      let ack = '';
      for (; i < refs.length && (refs[i] as SpoolRef).seg === seg; i++, n++) {
        const r = refs[i] as SpoolRef;
        r.seg = undefined;
        if (r.ord !== b + 1) {
          ack += `${a}-${b}\n`;
          a = r.ord;
        }
        b = r.ord;
      }
      this.#settleIn(seg, n, `${ack}${a}-${b}\n`);
    }
  }

  #settleIn(seg: SpoolSegment, n: number, ack: string): void {
    if (seg.deleted) return;
    seg.settled += n;
    if (seg.sealed && seg.settled >= seg.records) {
      this.#delete(seg);
      return;
    }
    try {
      if (seg.ackFd < 0) seg.ackFd = openSync(seg.ackPath, 'a', 0o600);
      writeSync(seg.ackFd, ack);
    } catch (err) {
      // Without the note the lines are sent again after a restart (Elasticsearch answers 409).
      this.#reportError(err);
    }
  }

  #delete(seg: SpoolSegment): void {
    seg.deleted = true;
    this.#closeFd(seg);
    const i = this.#live.indexOf(seg);
    if (i >= 0) this.#live.splice(i, 1);
    this.#dir.used -= seg.bytes;
    try {
      unlinkQuiet(seg.path);
      unlinkQuiet(seg.ackPath);
    } catch (err) {
      this.#reportError(err);
    }
  }

  #closeFd(seg: SpoolSegment): void {
    if (seg.ackFd >= 0) closeSync(seg.ackFd);
    seg.ackFd = -1;
    if (seg.fd < 0) return;
    if (seg.syncing > 0) {
      seg.closeWhenSynced = true;
      return;
    }
    closeSync(seg.fd);
    seg.fd = -1;
  }

  /** Current state. */
  stats(): SpoolStats {
    let bytes = 0;
    let lines = 0;
    for (const s of this.#live) {
      bytes += s.bytes;
      lines += s.records - s.settled;
    }
    for (const s of this.#backlog) {
      bytes += s.bytes;
      lines += s.records;
    }
    return { bytes, segments: this.#live.length + this.#backlog.length, lines, unwrittenBytes: this.#len };
  }

  /** Write and sync what is buffered, seal the current segment, delete settled segments, close the files; idempotent. */
  close(): void {
    if (this.#closed) return;
    const cur = this.#cur;
    if (cur) {
      this.write(true);
      cur.sealed = true;
    }
    this.#closed = true;
    for (const seg of [...this.#live]) {
      if (seg.settled >= seg.records) this.#delete(seg);
      else this.#closeFd(seg);
    }
  }
}
