/**
 * OTLP/protobuf encoding of one finished span at a time (opentelemetry-proto `trace.proto`), so a
 * span can wait for export as bytes outside the JavaScript heap instead of as an SDK span object
 * (docs/performance.md, "Garbage, memory and start-up"). A batch is framed around the encoded spans
 * by {@link encodeTraceRequest}. Field order and presence follow the OpenTelemetry exporter's own
 * serialiser, so the request is byte for byte what it would send (`spec/otlp-span-encoder.spec.ts`).
 */
import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** `trace_flags` bit: the span context's `is_remote` is known. */
const HAS_IS_REMOTE = 0x100;
/** `trace_flags` bit: the span context (the parent, for a span) is remote. */
const IS_REMOTE = 0x200;
const TWO_32 = 0x1_0000_0000;

/** The value of each hex digit by character code (`0`-`9`, `a`-`f`, `A`-`F`); anything else 0. */
const NIBBLE = new Uint8Array(256);
for (let c = 0; c < 10; c++) NIBBLE[48 + c] = c;
for (let c = 0; c < 6; c++) NIBBLE[97 + c] = NIBBLE[65 + c] = 10 + c;

/** A growable buffer with the protobuf wire primitives; nested messages are length-prefixed after they are written. */
export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  /** A writer starting with `size` bytes of room. */
  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A field's tag (numbers below 16: one byte; 16 and up: two). */
  tag(field: number, wire: number): void {
    const key = (field << 3) | wire;
    if (key >= 0x80 || this.pos + 1 > this.buf.length) {
      this.uint32(key);
      return;
    }
    this.buf[this.pos++] = key;
  }

  /** A varint of an unsigned 32-bit value. */
  uint32(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A varint of any integer a double holds exactly (negative: 64-bit two's complement, ten bytes). */
  int64(v: number): void {
    if (v >= 0 && v < TWO_32) {
      this.uint32(v);
      return;
    }
    let lo: number;
    let hi: number;
    if (v >= 0) {
      lo = v % TWO_32;
      hi = Math.floor(v / TWO_32) >>> 0;
    } else {
      const a = -v;
      lo = ~(a % TWO_32) >>> 0;
      hi = ~Math.floor(a / TWO_32) >>> 0;
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (hi > 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** Four bytes, little-endian. */
  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** An IEEE 754 double, little-endian. */
  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** An `[seconds, nanoseconds]` time as fixed64 nanoseconds since the epoch. */
  time(t: HrTime): void {
    // seconds × 1e9 + nanos exceeds 2^53: split seconds at 2^16 so every partial product stays exact.
    const sLow = t[0] % 0x10000;
    const high = ((t[0] - sLow) / 0x10000) * 1e9; // × 2^16 still to apply
    const highLow16 = high % 0x10000;
    const highTop = (high - highLow16) / 0x10000; // whole multiples of 2^32
    const low = sLow * 1e9 + t[1] + highLow16 * 0x10000;
    this.ensure(8);
    this.buf.writeUInt32LE(low % TWO_32, this.pos);
    this.buf.writeUInt32LE((highTop + Math.floor(low / TWO_32)) >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** A length-prefixed UTF-8 string (lone surrogates become U+FFFD, as with `TextEncoder`). */
  string(s: string): void {
    const len = s.length;
    if (len < 0x80) {
      // Short ASCII (names, keys, most values) byte by byte: cheaper than a call into Buffer's UTF-8 writer.
      this.ensure(1 + len * 3);
      const b = this.buf;
      const start = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + 1 + i] = c;
      }
      if (i === len) {
        b[start] = len;
        this.pos = start + 1 + len;
        return;
      }
      if (len < 43) {
        // At most 126 bytes: the length still fits the one byte reserved before the text.
        const n = b.write(s, start + 1);
        b[start] = n;
        this.pos = start + 1 + n;
        return;
      }
    }
    const n = Buffer.byteLength(s);
    this.uint32(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos);
  }

  /** A length-prefixed byte string. */
  bytes(v: Uint8Array): void {
    this.uint32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** A length-prefixed byte string from hex (trace and span ids, which the SDK and a validated `traceparent` give as hex; anything else gives arbitrary bytes of the right length). */
  hex(id: string): void {
    const n = id.length >>> 1;
    this.uint32(n);
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n * 2; i += 2) b[p++] = ((NIBBLE[id.charCodeAt(i) & 0xff] as number) << 4) | (NIBBLE[id.charCodeAt(i + 1) & 0xff] as number);
    this.pos = p;
  }

  /** Start a length-delimited message: returns where its length goes (one byte reserved). */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** End the message begun at `at`: write its length there, moving the body when it needs more than one byte. */
  end(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    let extra = 1;
    for (let v = len >>> 14; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copy(this.buf, at + 1 + extra, at + 1, this.pos);
    const end = this.pos + extra;
    this.pos = at;
    this.uint32(len);
    this.pos = end;
  }
}

/** One attribute value (`AnyValue`); `null`, `undefined` and other types give an empty value, as the exporter's serialiser does. */
function anyValue(w: ProtoWriter, v: unknown): void {
  switch (typeof v) {
    case 'string':
      w.tag(1, 2);
      w.string(v);
      return;
    case 'boolean':
      w.tag(2, 0);
      w.uint32(v ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) {
        w.tag(3, 0);
        w.int64(v);
      } else {
        w.tag(4, 1);
        w.double(v);
      }
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (v === null) return;
  if (v instanceof Uint8Array) {
    w.tag(7, 2);
    w.bytes(v);
    return;
  }
  if (Array.isArray(v)) {
    w.tag(5, 2);
    const list = w.begin();
    for (const item of v as unknown[]) {
      w.tag(1, 2);
      const at = w.begin();
      anyValue(w, item);
      w.end(at);
    }
    w.end(list);
    return;
  }
  w.tag(6, 2);
  const list = w.begin();
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    w.tag(1, 2);
    keyValue(w, k, o[k]);
  }
  w.end(list);
}

/** A length-prefixed `KeyValue` (its tag already written). */
function keyValue(w: ProtoWriter, key: string, value: unknown): void {
  const kv = w.begin();
  w.tag(1, 2);
  w.string(key);
  w.tag(2, 2);
  const at = w.begin();
  anyValue(w, value);
  w.end(at);
  w.end(kv);
}

/** `attributes` as repeated `KeyValue` field `field`. */
function attributes(w: ProtoWriter, attrs: Attributes | undefined, field: number): void {
  if (attrs === undefined) return;
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    w.tag(field, 2);
    keyValue(w, key, attrs[key] as AttributeValue | undefined);
  }
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function event(w: ProtoWriter, e: TimedEvent): void {
  w.tag(11, 2);
  const at = w.begin();
  w.tag(1, 1);
  w.time(e.time);
  w.tag(2, 2);
  w.string(e.name);
  attributes(w, e.attributes, 3);
  w.tag(4, 0);
  w.uint32(e.droppedAttributesCount ?? 0);
  w.end(at);
}

/** Fields 1-3 of a `Span` and of a `Span.Link`: trace id, span id, trace state (when there is one). */
function ids(w: ProtoWriter, c: SpanContext): void {
  w.tag(1, 2);
  w.hex(c.traceId);
  w.tag(2, 2);
  w.hex(c.spanId);
  const state = c.traceState?.serialize();
  if (state) {
    w.tag(3, 2);
    w.string(state);
  }
}

function link(w: ProtoWriter, l: Link & { droppedAttributesCount?: number }): void {
  const c: SpanContext = l.context;
  w.tag(13, 2);
  const at = w.begin();
  ids(w, c);
  attributes(w, l.attributes, 4);
  w.tag(5, 0);
  w.uint32(l.droppedAttributesCount ?? 0);
  w.tag(6, 5);
  w.fixed32(flags(c.traceFlags, c.isRemote));
  w.end(at);
}

/** Write `span` as one `ScopeSpans.spans` entry (field 2: tag, length, `Span`) at the writer's position. */
export function encodeSpan(w: ProtoWriter, span: ReadableSpan): void {
  const ctx = span.spanContext();
  const parent = span.parentSpanContext;
  w.tag(2, 2);
  const at = w.begin();
  ids(w, ctx);
  if (parent?.spanId) {
    w.tag(4, 2);
    w.hex(parent.spanId);
  }
  w.tag(5, 2);
  w.string(span.name);
  // SpanKind is offset by one on the wire (0 is "unspecified").
  w.tag(6, 0);
  w.uint32(span.kind + 1);
  w.tag(7, 1);
  w.time(span.startTime);
  w.tag(8, 1);
  w.time(span.endTime);
  attributes(w, span.attributes, 9);
  w.tag(10, 0);
  w.uint32(span.droppedAttributesCount);
  for (const e of span.events) event(w, e);
  w.tag(12, 0);
  w.uint32(span.droppedEventsCount);
  for (const l of span.links) link(w, l);
  w.tag(14, 0);
  w.uint32(span.droppedLinksCount);
  w.tag(15, 2);
  const status = w.begin();
  if (span.status.message) {
    w.tag(2, 2);
    w.string(span.status.message);
  }
  w.tag(3, 0);
  w.uint32(span.status.code);
  w.end(status);
  w.tag(16, 5);
  w.fixed32(flags(ctx.traceFlags, parent?.isRemote));
  w.end(at);
}

/**
 * The writer of {@link encodedSpan}, and what identifies the span its bytes are (no reference to the
 * span itself, which would outlive it): its end time's array and its span id.
 */
const shared = new ProtoWriter();
let sharedEnd: HrTime | undefined;
let sharedSpanId: string | undefined;

/**
 * `span` encoded as by {@link encodeSpan}: bytes `[0, pos)` of the returned writer's `buf`, valid until
 * the next call. The span processors that keep a span's bytes (the export queue, the trace viewer's
 * ring) each call it from their `onEnd`: the first encodes, the others get the same bytes. An ended
 * span's data no longer changes. Its end time's array alone does not identify it: the SDK keeps an
 * `HrTime` given to `end()` as it is, so spans ended with one array share it; the span id tells them apart.
 */
export function encodedSpan(span: ReadableSpan): ProtoWriter {
  const end = span.endTime;
  const spanId = span.spanContext().spanId;
  if (end === sharedEnd && spanId === sharedSpanId) return shared;
  sharedEnd = undefined;
  sharedSpanId = undefined;
  shared.pos = 0;
  encodeSpan(shared, span);
  sharedEnd = end;
  sharedSpanId = spanId;
  return shared;
}

/** Encoded spans of one instrumentation scope, in the order they ended. */
export interface EncodedScopeSpans {
  readonly scope: InstrumentationScope;
  /** Encoded `ScopeSpans.spans` entries ({@link encodeSpan}), one or more side by side in each view. */
  readonly spans: Uint8Array[];
}

/** What one export request carries: the spans of one resource, grouped by scope. */
export interface EncodedSpanBatch {
  readonly resource: Resource;
  readonly scopes: readonly EncodedScopeSpans[];
  /** Number of spans (for the exporter's own metrics). */
  readonly count: number;
}

function resourceBytes(resource: Resource): Buffer {
  const w = new ProtoWriter(256);
  w.tag(1, 2);
  const at = w.begin();
  attributes(w, resource.attributes, 1);
  w.tag(2, 0);
  w.uint32(0);
  w.end(at);
  return w.buf.subarray(0, w.pos);
}

function scopeBytes(scope: InstrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number }): Buffer {
  const w = new ProtoWriter(128);
  w.tag(1, 2);
  const at = w.begin();
  w.tag(1, 2);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, 2);
    w.string(scope.version);
  }
  attributes(w, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    w.tag(4, 0);
    w.uint32(scope.droppedAttributesCount);
  }
  w.end(at);
  return w.buf.subarray(0, w.pos);
}

/** The bytes a message of a batch puts before and after its children: a resource or a scope, then its `schema_url` (field 3). */
interface Framing {
  readonly head: Buffer;
  readonly tail: Buffer;
}

/** Framings, kept per resource or scope object (a provider has one resource and a few scopes). */
const framings = new WeakMap<object, Framing>();

function framing(o: { readonly schemaUrl?: string | undefined }, head: () => Buffer): Framing {
  let f = framings.get(o);
  if (f === undefined) {
    const w = new ProtoWriter(16);
    if (o.schemaUrl) {
      w.tag(3, 2);
      w.string(o.schemaUrl);
    }
    f = { head: head(), tail: w.buf.subarray(0, w.pos) };
    framings.set(o, f);
  }
  return f;
}

function varintSize(n: number): number {
  let size = 1;
  for (let v = n >>> 7; v > 0; v >>>= 7) size++;
  return size;
}

/** The `ExportTraceServiceRequest` of `batch`: one `ResourceSpans`, a `ScopeSpans` per scope, the encoded spans copied in. */
export function encodeTraceRequest(batch: EncodedSpanBatch): Uint8Array {
  const resource = framing(batch.resource, () => resourceBytes(batch.resource));
  const scopes = batch.scopes.map((group) => framing(group.scope, () => scopeBytes(group.scope)));
  const scopeSizes = batch.scopes.map((group, i) => {
    const f = scopes[i] as Framing;
    let size = f.head.length + f.tail.length;
    for (const s of group.spans) size += s.length;
    return size;
  });
  let resourceSpans = resource.head.length + resource.tail.length;
  for (const size of scopeSizes) resourceSpans += 1 + varintSize(size) + size;
  const w = new ProtoWriter(1 + varintSize(resourceSpans) + resourceSpans);
  const put = (bytes: Uint8Array): void => {
    w.buf.set(bytes, w.pos);
    w.pos += bytes.length;
  };
  w.tag(1, 2);
  w.uint32(resourceSpans);
  put(resource.head);
  batch.scopes.forEach((group, i) => {
    const f = scopes[i] as Framing;
    w.tag(2, 2);
    w.uint32(scopeSizes[i] as number);
    put(f.head);
    for (const s of group.spans) put(s);
    put(f.tail);
  });
  put(resource.tail);
  return w.buf.subarray(0, w.pos);
}
