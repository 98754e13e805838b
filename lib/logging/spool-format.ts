/**
 * Records of a spool segment: `[length u32 LE][crc32 of the payload u32 LE][payload]`, appended back to
 * back. A record cut short by a crash (or the zeros a file system may leave after a power loss) fails the
 * length or checksum test; reading stops there and the rest of the segment counts as one torn record.
 */
import zlib from 'node:zlib';

/** Bytes of a record's header. */
export const RECORD_HEADER = 8;

let table: Uint32Array | undefined;

/** CRC-32 (zlib's polynomial) in JavaScript, for Node versions without `zlib.crc32` (< 20.15). */
function crc32js(buf: Buffer, start: number, end: number): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = (table[(crc ^ (buf[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of `buf[start, end)`. */
export function crc32(buf: Buffer, start: number, end: number): number {
  return native ? native(buf.subarray(start, end)) : crc32js(buf, start, end);
}

/** One record found in a segment: payload `buf[start, end)`, `ord` its position in the segment. */
export interface SpoolRecord {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  readonly ord: number;
}

/** The records of a segment's bytes, and whether it ends in a torn record. */
export function parseRecords(buf: Buffer): { records: SpoolRecord[]; torn: boolean } {
  const records: SpoolRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < RECORD_HEADER) return { records, torn: true };
    const len = buf.readUInt32LE(pos);
    const start = pos + RECORD_HEADER;
    const end = start + len;
    if (len === 0 || end > buf.length || crc32(buf, start, end) !== buf.readUInt32LE(pos + 4)) return { records, torn: true };
    records.push({ buf, start, end, ord: records.length });
    pos = end;
  }
  return { records, torn: false };
}

/** Acknowledged record positions from an ack file's `from-to` lines (a torn last line is ignored). */
export function parseAcks(text: string): (ord: number) => boolean {
  const ranges: Array<[number, number]> = [];
  let max = -1;
  for (const line of text.split('\n')) {
    const m = /^(\d+)-(\d+)$/.exec(line);
    if (!m) continue;
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (b < a || b > 1e8) continue;
    ranges.push([a, b]);
    if (b > max) max = b;
  }
  const marks = new Uint8Array(max + 1);
  for (const [a, b] of ranges) marks.fill(1, a, b + 1);
  return (ord) => marks[ord] === 1;
}
