/**
 * Reading back a span written by `encodeSpan` (lib/otlp/span-encoder.ts): the trace viewer's ring
 * keeps spans as those bytes and decodes them only when the viewer asks. Reads the fields the
 * encoder writes (opentelemetry-proto `trace.proto`, `common.proto`) and skips any other.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';

/** A decoded span: ids as lowercase hex, times as `[seconds, nanoseconds]` since the epoch. */
export interface DecodedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Absent for a root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  /** The API's `SpanKind` (the wire's value minus one). */
  readonly kind: number;
  readonly startTime: [number, number];
  readonly endTime: [number, number];
  readonly attributes: Attributes;
  readonly events: readonly { readonly name: string; readonly time: [number, number]; readonly attributes: Attributes }[];
  /** The API's `SpanStatusCode`; `message` only when the span's status had a non-empty one. */
  readonly status: { readonly code: number; readonly message?: string };
}

const NS_PER_S = 1_000_000_000n;

/** A cursor over protobuf bytes. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  get more(): boolean {
    return this.pos < this.end;
  }

  /** A varint up to 32 bits (tags, lengths, enums, small counts). */
  uint32(): number {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      if (shift < 28) v |= (b & 0x7f) << shift;
      else if (shift === 28) v += (b & 0x0f) * 2 ** 28;
      shift += 7;
      if (b < 0x80) return v >>> 0;
      if (shift > 63) throw new Error('malformed varint');
    }
  }

  /** A varint of a signed 64-bit integer, as the nearest number (exact for every integer the encoder wrote). */
  int64(): number {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (b < 0x80) break;
      if (shift >= 63) throw new Error('malformed varint');
    }
    return (hi | 0) * 0x1_0000_0000 + (lo >>> 0);
  }

  /** A fixed64 of nanoseconds since the epoch as `[seconds, nanoseconds]`, exactly. */
  time(): [number, number] {
    const lo = this.fixed32();
    const hi = this.fixed32();
    const ns = (BigInt(hi) << 32n) | BigInt(lo);
    return [Number(ns / NS_PER_S), Number(ns % NS_PER_S)];
  }

  fixed32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field's extent; the cursor moves past it. */
  span(): [number, number] {
    const len = this.uint32();
    this.need(len);
    const at = this.pos;
    this.pos += len;
    return [at, at + len];
  }

  string(): string {
    const [a, b] = this.span();
    return this.buf.toString('utf8', a, b);
  }

  hex(): string {
    const [a, b] = this.span();
    return this.buf.toString('hex', a, b);
  }

  /** Skip a field of wire type `wire`. */
  skip(wire: number): void {
    if (wire === 0) this.uint32();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.span();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('truncated field');
  }

  byte(): number {
    if (this.pos >= this.end) throw new Error('truncated varint');
    return this.buf[this.pos++] as number;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new Error('truncated field');
  }

  /** A reader over `[a, b)` of the same bytes. */
  sub([a, b]: [number, number]): Reader {
    return new Reader(this.buf, a, b);
  }
}

/** An `AnyValue` (`null` when empty). */
function anyValue(r: Reader): AttributeValue | Attributes | null {
  let v: AttributeValue | Attributes | null = null;
  while (r.more) {
    const key = r.uint32();
    const field = key >>> 3;
    if (field === 1) v = r.string();
    else if (field === 2) v = r.uint32() !== 0;
    else if (field === 3) v = r.int64();
    else if (field === 4) v = r.double();
    else if (field === 5) {
      const list = r.sub(r.span());
      const items: unknown[] = [];
      while (list.more) {
        const k = list.uint32();
        if (k >>> 3 === 1) items.push(anyValue(list.sub(list.span())));
        else list.skip(k & 7);
      }
      v = items as AttributeValue;
    } else if (field === 6) {
      const list = r.sub(r.span());
      const o: Attributes = {};
      while (list.more) {
        const k = list.uint32();
        if (k >>> 3 === 1) keyValue(list.sub(list.span()), o);
        else list.skip(k & 7);
      }
      v = o;
    } else if (field === 7) {
      const [a, b] = r.span();
      v = Array.from(r.buf.subarray(a, b));
    } else r.skip(key & 7);
  }
  return v;
}

/** A `KeyValue`, added to `into`. */
function keyValue(r: Reader, into: Attributes): void {
  let k = '';
  let value: AttributeValue | Attributes | null = null;
  while (r.more) {
    const key = r.uint32();
    if (key >>> 3 === 1) k = r.string();
    else if (key >>> 3 === 2) value = anyValue(r.sub(r.span()));
    else r.skip(key & 7);
  }
  (into as Record<string, unknown>)[k] = value;
}

function event(r: Reader): DecodedSpan['events'][number] {
  let name = '';
  let time: [number, number] = [0, 0];
  const attributes: Attributes = {};
  while (r.more) {
    const key = r.uint32();
    const field = key >>> 3;
    if (field === 1) time = r.time();
    else if (field === 2) name = r.string();
    else if (field === 3) keyValue(r.sub(r.span()), attributes);
    else r.skip(key & 7);
  }
  return { name, time, attributes };
}

function status(r: Reader): DecodedSpan['status'] {
  let code = 0;
  let message: string | undefined;
  while (r.more) {
    const key = r.uint32();
    if (key >>> 3 === 2) message = r.string();
    else if (key >>> 3 === 3) code = r.uint32();
    else r.skip(key & 7);
  }
  return message ? { code, message } : { code };
}

/**
 * The span at `[start, end)` of `buf`: a `ScopeSpans.spans` field as `encodeSpan` writes it (tag,
 * length, `Span`). Throws on bytes that are not one.
 */
export function decodeSpan(buf: Buffer, start: number, end: number): DecodedSpan {
  const outer = new Reader(buf, start, end);
  if (outer.uint32() !== ((2 << 3) | 2)) throw new Error('not an encoded span');
  const r = outer.sub(outer.span());
  let traceId = '';
  let spanId = '';
  let parentSpanId: string | undefined;
  let name = '';
  let kind = 0;
  let startTime: [number, number] = [0, 0];
  let endTime: [number, number] = [0, 0];
  const attributes: Attributes = {};
  const events: DecodedSpan['events'][number][] = [];
  let st: DecodedSpan['status'] = { code: 0 };
  while (r.more) {
    const key = r.uint32();
    switch (key >>> 3) {
      case 1:
        traceId = r.hex();
        break;
      case 2:
        spanId = r.hex();
        break;
      case 4:
        parentSpanId = r.hex();
        break;
      case 5:
        name = r.string();
        break;
      case 6:
        kind = r.uint32() - 1;
        break;
      case 7:
        startTime = r.time();
        break;
      case 8:
        endTime = r.time();
        break;
      case 9:
        keyValue(r.sub(r.span()), attributes);
        break;
      case 11:
        events.push(event(r.sub(r.span())));
        break;
      case 15:
        st = status(r.sub(r.span()));
        break;
      default:
        r.skip(key & 7);
    }
  }
  return { traceId, spanId, ...(parentSpanId ? { parentSpanId } : {}), name, kind, startTime, endTime, attributes, events, status: st };
}

/** The trace id (hex) of the span at `start` of `buf` (as {@link decodeSpan} reads it), or `undefined`. */
export function encodedTraceId(buf: Buffer, start: number, end: number): string | undefined {
  const r = new Reader(buf, start, end);
  try {
    if (r.uint32() !== ((2 << 3) | 2)) return undefined;
    const body = r.sub(r.span());
    return body.uint32() === ((1 << 3) | 2) ? body.hex() : undefined;
  } catch {
    return undefined;
  }
}
