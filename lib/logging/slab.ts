/**
 * Append-only UTF-8 storage for queued log lines. A line is encoded straight into a large
 * shared buffer and kept as a range of it: no Buffer object and no pool slice per line, and a
 * batch whose lines sit side by side is sent as one slice of that buffer, without copying.
 * A buffer is never written twice, so a range stays valid for as long as anything refers to
 * it, and the buffer is garbage once no queued line points into it. The bytes stay outside
 * the JavaScript heap, so a backlog (a slow or absent backend) costs the garbage collector one
 * small object per line rather than the line's strings.
 */

/** Size of each shared buffer (a line longer than this gets a buffer of its own). */
export const SLAB_BYTES = 256 * 1024;

/** A line encoded in a {@link Utf8Slab}: bytes `[start, end)` of `buf`. */
export interface SlabRange {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
}

/** See the module comment. */
export class Utf8Slab {
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;

  /**
   * Encode `text` (UTF-8) and return its start in {@link Utf8Slab.buffer}; it ends at
   * {@link Utf8Slab.position}. Room is reserved for the worst case (3 bytes per UTF-16 unit) so
   * a line never straddles two buffers.
   */
  append(text: string): number {
    const worst = text.length * 3;
    if (this.#buf.length - this.#pos < worst) {
      this.#buf = Buffer.allocUnsafe(Math.max(SLAB_BYTES, worst));
      this.#pos = 0;
    }
    const start = this.#pos;
    this.#pos = start + this.#buf.write(text, start);
    return start;
  }

  /** The buffer the last {@link Utf8Slab.append} wrote into. */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** Where the last {@link Utf8Slab.append} ended. */
  get position(): number {
    return this.#pos;
  }
}

/**
 * The ranges of `items` as the fewest slices: neighbours that are adjacent in the same buffer
 * (the usual case: lines queued one after the other) share one slice, so a batch is normally
 * one or two slices of the shared buffers and nothing is copied.
 */
export function coalesce(items: readonly SlabRange[]): Buffer[] {
  const out: Buffer[] = [];
  let buf: Buffer | undefined;
  let start = 0;
  let end = 0;
  for (const r of items) {
    if (r.buf === buf && r.start === end) {
      end = r.end;
      continue;
    }
    if (buf !== undefined) out.push(buf.subarray(start, end));
    buf = r.buf;
    start = r.start;
    end = r.end;
  }
  if (buf !== undefined) out.push(buf.subarray(start, end));
  return out;
}
