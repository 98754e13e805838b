/**
 * Append-only UTF-8 storage for queued log lines. A line is encoded straight into a large
 * shared buffer and kept as a range of it: no Buffer object and no pool slice per line, and a
 * batch whose lines sit side by side is sent as one slice of that buffer, without copying.
 * A buffer is written again only after every line in it has been released (delivered, or
 * dropped): a range stays valid for as long as its line is in use, and a buffer whose lines are
 * never released is garbage once nothing points into it. The bytes stay outside
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

/**
 * One buffer of a {@link Utf8Slab} and the number of its lines still in use: once every line in it
 * is released and the slab has moved on to another buffer, the buffer is written again.
 */
export class SlabChunk {
  /** Lines appended and not yet released. */
  live = 0;
  /** A buffer lines are encoded into. */
  constructor(readonly buf: Buffer) {}
}

/** Free buffers a slab keeps for reuse (2 MB): a few batches' worth. */
const KEPT_CHUNKS = 8;

/** See the module comment. */
export class Utf8Slab {
  #chunk = new SlabChunk(Buffer.alloc(0));
  #pos = 0;
  readonly #free: SlabChunk[] = [];

  /**
   * Encode `text` (UTF-8) and return its start in {@link Utf8Slab.buffer}; it ends at
   * {@link Utf8Slab.position}. Room is reserved for the worst case (3 bytes per UTF-16 unit) so
   * a line never straddles two buffers. The line counts as in use in {@link Utf8Slab.chunk} until
   * {@link Utf8Slab.release}d.
   */
  append(text: string): number {
    const worst = text.length * 3;
    let chunk = this.#chunk;
    if (chunk.buf.length - this.#pos < worst) {
      if (chunk.live === 0) this.#keep(chunk);
      chunk = (worst <= SLAB_BYTES ? this.#free.pop() : undefined) ?? new SlabChunk(Buffer.allocUnsafe(Math.max(SLAB_BYTES, worst)));
      this.#chunk = chunk;
      this.#pos = 0;
    }
    const start = this.#pos;
    this.#pos = start + chunk.buf.write(text, start);
    chunk.live++;
    return start;
  }

  /**
   * A line of `chunk` is no longer needed: nothing will read its bytes again (it was delivered, or
   * dropped and dead-lettered). A buffer whose lines are all released is reused by a later append,
   * so under steady traffic the same few buffers carry every line instead of a new one per 256 KB.
   */
  release(chunk: SlabChunk): void {
    if (--chunk.live === 0 && chunk !== this.#chunk) this.#keep(chunk);
  }

  #keep(chunk: SlabChunk): void {
    if (chunk.buf.length === SLAB_BYTES && this.#free.length < KEPT_CHUNKS) this.#free.push(chunk);
  }

  /** The buffer the last {@link Utf8Slab.append} wrote into. */
  get buffer(): Buffer {
    return this.#chunk.buf;
  }

  /** The buffer (with its count of lines in use) the last {@link Utf8Slab.append} wrote into. */
  get chunk(): SlabChunk {
    return this.#chunk;
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
