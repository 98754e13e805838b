/**
 * The most recent texts (at most `maxRecords` of them, together at most `maxBytes` of UTF-8) in one
 * fixed buffer outside the JavaScript heap. The dashboard's span and log rings keep their records here
 * rather than as objects: thousands of recent objects held for a while are what V8's young-generation
 * collector copies and promotes on every scavenge, which grows the young generation under load
 * (docs/performance.md, "Garbage, memory and start-up").
 */
export class ByteRing {
  readonly #bytes: Buffer;
  readonly #offsets: Uint32Array;
  readonly #lengths: Uint32Array;
  readonly #tags: Float64Array;
  readonly #maxRecords: number;
  /** Slot of the oldest record; records occupy `count` consecutive slots (circularly) from here. */
  #first = 0;
  #count = 0;
  /** Where the next record's bytes go. */
  #head = 0;
  /** Records ever pushed (the newest record's sequence number). */
  #pushed = 0;

  /** A ring of at most `maxRecords` records and `maxBytes` bytes (both ≥ 1). */
  constructor(maxRecords: number, maxBytes: number) {
    this.#maxRecords = Math.max(1, Math.floor(maxRecords));
    this.#bytes = Buffer.allocUnsafeSlow(Math.max(1, Math.floor(maxBytes)));
    this.#offsets = new Uint32Array(this.#maxRecords);
    this.#lengths = new Uint32Array(this.#maxRecords);
    this.#tags = new Float64Array(this.#maxRecords);
  }

  /** Records held now. */
  get size(): number {
    return this.#count;
  }

  /** The largest record {@link ByteRing.push} stores whole, in bytes: a quarter of the buffer. */
  get maxRecordBytes(): number {
    return Math.floor(this.#bytes.length / 4);
  }

  /**
   * Append `text` with a number of the caller's (`tag`, such as a time), evicting the oldest records
   * it needs room for. Returns false, storing nothing, when `text` is empty or its UTF-8 form is
   * longer than {@link ByteRing.maxRecordBytes}.
   */
  push(text: string, tag = 0): boolean {
    // Records are never empty: the eviction below tells records apart by the bytes they cover.
    if (text.length === 0) return false;
    const buf = this.#bytes;
    // At most 3 bytes per UTF-16 unit: the exact length is only computed when that bound does not fit.
    const length = text.length * 3 <= Math.min(buf.length - this.#head, this.maxRecordBytes) ? -1 : Buffer.byteLength(text);
    if (length > this.maxRecordBytes) return false;
    const at = this.#reserve(length);
    // There is room for the whole text here (checked above), so nothing is cut.
    this.#commit(at, buf.write(text, at, 'utf8'), tag);
    return true;
  }

  /** {@link ByteRing.push} for bytes `[start, end)` of `src`. */
  pushBytes(src: Uint8Array, start: number, end: number, tag = 0): boolean {
    const length = end - start;
    if (length <= 0 || length > this.maxRecordBytes) return false;
    const at = this.#reserve(length);
    this.#bytes.set(src.subarray(start, end), at);
    this.#commit(at, length, tag);
    return true;
  }

  /** Where a record of `length` bytes goes (-1: at most 3 bytes per UTF-16 unit of a text that fits where the head is). */
  #reserve(length: number): number {
    if (length !== -1 && length > this.#bytes.length - this.#head) this.#wrap();
    if (this.#count === this.#maxRecords) this.#dropOldest();
    return this.#head;
  }

  #commit(at: number, length: number, tag: number): void {
    this.#evictOverlapping(at, at + length);
    const slot = (this.#first + this.#count) % this.#maxRecords;
    this.#offsets[slot] = at;
    this.#lengths[slot] = length;
    this.#tags[slot] = tag;
    this.#count++;
    this.#pushed++;
    this.#head = at + length;
  }

  /**
   * Call `fn` with each record, newest first, its sequence number (1 for the first record ever
   * pushed) and its tag, until `fn` returns false.
   */
  forEachNewest(fn: (text: string, seq: number, tag: number) => boolean | void): void {
    this.forEachNewestBytes((bytes, start, end, seq, tag) => fn(bytes.toString('utf8', start, end), seq, tag));
  }

  /** {@link ByteRing.forEachNewest} with each record as bytes `[start, end)` of `bytes` (valid during the call). */
  forEachNewestBytes(fn: (bytes: Buffer, start: number, end: number, seq: number, tag: number) => boolean | void): void {
    for (let i = this.#count - 1; i >= 0; i--) {
      const slot = (this.#first + i) % this.#maxRecords;
      const at = this.#offsets[slot] as number;
      if (fn(this.#bytes, at, at + (this.#lengths[slot] as number), this.#pushed - (this.#count - 1 - i), this.#tags[slot] as number) === false) return;
    }
  }

  /** Drop every record. */
  clear(): void {
    this.#first = 0;
    this.#count = 0;
    this.#head = 0;
  }

  /** Continue at the buffer's start: the records still after the head are the oldest; drop them. */
  #wrap(): void {
    while (this.#count > 0 && (this.#offsets[this.#first] as number) >= this.#head) this.#dropOldest();
    this.#head = 0;
  }

  /** Drop the oldest records whose bytes overlap [from, to). */
  #evictOverlapping(from: number, to: number): void {
    while (this.#count > 0) {
      const at = this.#offsets[this.#first] as number;
      if (at >= to || at + (this.#lengths[this.#first] as number) <= from) return;
      this.#dropOldest();
    }
  }

  #dropOldest(): void {
    this.#first = (this.#first + 1) % this.#maxRecords;
    this.#count--;
  }
}
