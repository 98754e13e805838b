/**
 * OTLP decoding primitives shared by the stand-in collector's trace and log decoders: the JSON
 * encoding's values (ids as lowercase hex, 64-bit integers as strings or numbers) and a protobuf
 * wire-format reader (field numbers of opentelemetry-proto's common.proto and resource.proto).
 */

/** A decoded attribute value. */
export type AnyValue = string | boolean | number | bigint | Uint8Array | AnyValue[] | { [key: string]: AnyValue } | null;
export const HEX = (len: number): RegExp => new RegExp(`^[0-9a-f]{${len}}$`);
export const TRACE_ID = HEX(32);
export const SPAN_ID = HEX(16);

export type Json = Record<string, unknown>;

export function fail(msg: string): never {
  throw new Error(`OTLP decode: ${msg}`);
}

export function obj(v: unknown, what: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${what} must be an object`);
  return v as Json;
}

export function arr(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${what} must be an array`);
  return v;
}

export function int64(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return fail(`${what} must be an int64 (number or decimal string), got ${JSON.stringify(v)}`);
}

export function decodeValue(v: unknown, what: string): AnyValue {
  const o = obj(v, what);
  if ('stringValue' in o) return String(o.stringValue);
  if ('boolValue' in o) return Boolean(o.boolValue);
  if ('intValue' in o) {
    const n = int64(o.intValue, `${what}.intValue`);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if ('doubleValue' in o) return Number(o.doubleValue);
  if ('bytesValue' in o) return Buffer.from(String(o.bytesValue), 'base64');
  if ('arrayValue' in o) return arr(obj(o.arrayValue, `${what}.arrayValue`).values, `${what}.arrayValue.values`).map((x, i) => decodeValue(x, `${what}[${i}]`));
  if ('kvlistValue' in o) return decodeAttributes(obj(o.kvlistValue, `${what}.kvlistValue`).values, `${what}.kvlistValue`);
  return null;
}

export function decodeAttributes(v: unknown, what: string): Record<string, AnyValue> {
  const out: Record<string, AnyValue> = {};
  arr(v, what).forEach((kv, i) => {
    const o = obj(kv, `${what}[${i}]`);
    if (typeof o.key !== 'string') fail(`${what}[${i}].key must be a string`);
    out[o.key] = o.value === undefined ? null : decodeValue(o.value, `${what}.${o.key}`);
  });
  return out;
}

export function id(v: unknown, re: RegExp, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) fail(`${what} must be lowercase hex (OTLP JSON), got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Protobuf wire-format reader: varints, 64-bit fixed, length-delimited fields and fixed32 (the wire
 * types OTLP trace and log messages use; fixed32 for `Span.flags` and `LogRecord.flags`). Unknown
 * fields are skipped as the protobuf rules require.
 */
class ProtoReader {
  #pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.#pos = start;
  }

  get done(): boolean {
    return this.#pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.#pos >= this.end) fail('truncated varint');
      const b = this.buf[this.#pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) fail('varint longer than 10 bytes');
    }
  }

  /** A field's tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = Number(this.varint());
    return [t >>> 3, t & 7];
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.#pos + len > this.end) fail('length-delimited field runs past its message');
    const out = this.buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  fixed(size: 4 | 8): DataView {
    if (this.#pos + size > this.end) fail(`truncated fixed${size * 8}`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.#pos, size);
    this.#pos += size;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.#pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.#pos += 4;
    else fail(`unsupported wire type ${wire}`);
  }
}

/** The fields of one message: field number → values in order (varints as bigint, others as bytes / DataView). */
export function fields(buf: Uint8Array): Map<number, Array<bigint | Uint8Array | DataView>> {
  const r = new ProtoReader(buf);
  const out = new Map<number, Array<bigint | Uint8Array | DataView>>();
  while (!r.done) {
    const [field, wire] = r.tag();
    let v: bigint | Uint8Array | DataView;
    if (wire === 0) v = r.varint();
    else if (wire === 2) v = r.bytes();
    else if (wire === 1) v = r.fixed(8);
    else if (wire === 5) v = r.fixed(4);
    else {
      r.skip(wire);
      continue;
    }
    const list = out.get(field);
    if (list) list.push(v);
    else out.set(field, [v]);
  }
  return out;
}

export const utf8 = new TextDecoder('utf-8', { fatal: true });
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export function bytesOf(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} must be length-delimited`);
  return v;
}
export function str(m: Map<number, unknown[]>, field: number, what: string): string | undefined {
  const v = m.get(field)?.at(-1);
  return v === undefined ? undefined : utf8.decode(bytesOf(v, what));
}
export function varintOf(m: Map<number, unknown[]>, field: number, what: string): bigint | undefined {
  const v = m.get(field)?.at(-1);
  if (v === undefined) return undefined;
  if (typeof v !== 'bigint') fail(`${what} must be a varint`);
  return v;
}
export function fixed64Of(m: Map<number, unknown[]>, field: number, what: string): bigint {
  const v = m.get(field)?.at(-1);
  if (!(v instanceof DataView) || v.byteLength !== 8) fail(`${what} must be a fixed64`);
  return v.getBigUint64(0, true);
}
export function fixed32Of(m: Map<number, unknown[]>, field: number, what: string): number | undefined {
  const v = m.get(field)?.at(-1);
  if (v === undefined) return undefined;
  if (!(v instanceof DataView) || v.byteLength !== 4) fail(`${what} must be a fixed32`);
  return v.getUint32(0, true);
}
export function messages(m: Map<number, unknown[]>, field: number, what: string): Map<number, Array<bigint | Uint8Array | DataView>>[] {
  return (m.get(field) ?? []).map((v, i) => fields(bytesOf(v, `${what}[${i}]`)));
}

/** opentelemetry.proto.common.v1.AnyValue */
export function protoValue(m: Map<number, unknown[]>, what: string): AnyValue {
  if (m.has(1)) return str(m, 1, `${what}.string_value`) as string;
  if (m.has(2)) return varintOf(m, 2, `${what}.bool_value`) === 1n;
  if (m.has(3)) {
    const n = BigInt.asIntN(64, varintOf(m, 3, `${what}.int_value`) as bigint);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (m.has(4)) {
    const v = m.get(4)?.at(-1);
    if (!(v instanceof DataView)) fail(`${what}.double_value must be a fixed64`);
    return v.getFloat64(0, true);
  }
  if (m.has(5)) return messages(fields(bytesOf(m.get(5)?.at(-1), `${what}.array_value`)), 1, `${what}.array_value.values`).map((x, i) => protoValue(x, `${what}[${i}]`));
  if (m.has(6)) return protoAttributes(fields(bytesOf(m.get(6)?.at(-1), `${what}.kvlist_value`)), 1, `${what}.kvlist_value`);
  if (m.has(7)) return bytesOf(m.get(7)?.at(-1), `${what}.bytes_value`);
  return null;
}

/** Repeated opentelemetry.proto.common.v1.KeyValue at `field` of `m`. */
export function protoAttributes(m: Map<number, unknown[]>, field: number, what: string): Record<string, AnyValue> {
  const out: Record<string, AnyValue> = {};
  messages(m, field, what).forEach((kv, i) => {
    const key = str(kv, 1, `${what}[${i}].key`);
    if (key === undefined) fail(`${what}[${i}].key missing`);
    const value = kv.get(2)?.at(-1);
    out[key] = value === undefined ? null : protoValue(fields(bytesOf(value, `${what}.${key}`)), `${what}.${key}`);
  });
  return out;
}

export function protoId(m: Map<number, unknown[]>, field: number, len: number, what: string): string | undefined {
  const v = m.get(field)?.at(-1);
  if (v === undefined) return undefined;
  const b = bytesOf(v, what);
  if (b.length === 0) return undefined;
  if (b.length !== len) fail(`${what} must be ${len} bytes, got ${b.length}`);
  return hex(b);
}

/** A decoded protobuf message: its fields by number. */
export type ProtoMessage = Map<number, Array<bigint | Uint8Array | DataView>>;

/**
 * The envelope both OTLP export requests share: field 1 holds Resource{Spans,Logs} (1 resource with
 * its attributes, 2 Scope{Spans,Logs}), each scope message holds 1 scope (1 name, 2 version) and 2 its
 * items. Calls `each` with every item, its index and the resource attributes and scope it belongs to.
 */
export function eachScopedItem(
  body: Uint8Array,
  kind: 'spans' | 'logs',
  each: (item: ProtoMessage, index: number, resource: Record<string, AnyValue>, scope: { name: string; version: string | undefined }) => void,
): void {
  const item = kind === 'spans' ? 'spans' : 'log_records';
  messages(fields(body), 1, `resource_${kind}`).forEach((rs, r) => {
    const resRaw = rs.get(1)?.at(-1);
    const resource = resRaw === undefined ? {} : protoAttributes(fields(bytesOf(resRaw, 'resource')), 1, 'resource.attributes');
    messages(rs, 2, `resource_${kind}[${r}].scope_${kind}`).forEach((ss) => {
      const scopeRaw = ss.get(1)?.at(-1);
      const scopeFields = scopeRaw === undefined ? new Map<number, unknown[]>() : fields(bytesOf(scopeRaw, 'scope'));
      const scope = { name: str(scopeFields, 1, 'scope.name') ?? '', version: str(scopeFields, 2, 'scope.version') };
      messages(ss, 2, item).forEach((m, k) => each(m, k, resource, scope));
    });
  });
}

/**
 * The same envelope in the JSON encoding: `resource{Spans,Logs}` → `resource.attributes` and
 * `scope{Spans,Logs}` → `scope` and `spans` / `logRecords`. Calls `each` with every item (an object),
 * its index, and the resource attributes and scope it belongs to.
 */
export function eachScopedItemJson(
  body: unknown,
  kind: 'spans' | 'logs',
  each: (item: Json, index: number, resource: Record<string, AnyValue>, scope: { name: string; version: string | undefined }) => void,
): void {
  const [resources, scopes, items] = kind === 'spans' ? ['resourceSpans', 'scopeSpans', 'spans'] : ['resourceLogs', 'scopeLogs', 'logRecords'];
  arr(obj(body, 'request')[resources], resources).forEach((rRaw, r) => {
    const rs = obj(rRaw, `${resources}[${r}]`);
    const resource = rs.resource === undefined ? {} : decodeAttributes(obj(rs.resource, 'resource').attributes, 'resource.attributes');
    arr(rs[scopes], scopes).forEach((sRaw, s) => {
      const ss = obj(sRaw, `${scopes}[${s}]`);
      const scopeRaw = ss.scope === undefined ? {} : obj(ss.scope, 'scope');
      const scope = { name: String(scopeRaw.name ?? ''), version: scopeRaw.version === undefined ? undefined : String(scopeRaw.version) };
      arr(ss[items], items).forEach((iRaw, k) => each(obj(iRaw, `${items}[${k}]`), k, resource, scope));
    });
  });
}
