/**
 * A stand-in OpenTelemetry collector: an OTLP/HTTP receiver for traces (`POST /v1/traces`) that decodes
 * what an exporter really sends, following the OTLP specification's JSON encoding
 * (opentelemetry-proto `ExportTraceServiceRequest`; ids as lowercase hex, enums as integers, 64-bit
 * integers as strings or numbers, optional gzip) and its protobuf encoding (`application/x-protobuf`,
 * decoded from the wire format with the field numbers of opentelemetry-proto's trace.proto, common.proto
 * and resource.proto). Any other content type is refused with 415. No real collector can be installed here.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { waitFor } from './http';
import { startLoopbackServer } from './loopback-server';

/** OTLP `Span.SpanKind` values (note: not the OpenTelemetry API's numbering). */
export const OTLP_KIND = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP `Status.StatusCode` values. */
export const OTLP_STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** A decoded attribute value. */
export type AnyValue = string | boolean | number | bigint | Uint8Array | AnyValue[] | { [key: string]: AnyValue } | null;

/** One span as decoded from an export request. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Readonly<Record<string, AnyValue>>;
  readonly events: readonly { readonly name: string; readonly timeUnixNano: bigint; readonly attributes: Readonly<Record<string, AnyValue>> }[];
  readonly status: { readonly code: number; readonly message: string | undefined };
  readonly resource: Readonly<Record<string, AnyValue>>;
  readonly scope: { readonly name: string; readonly version: string | undefined };
}

/** How the receiver answers: `ok` (200), `unavailable` (503), `hang` (reads the body, never answers). */
export type ReceiverMode = 'ok' | 'unavailable' | 'hang';

/** A running receiver. */
export interface OtlpReceiver {
  /** Base URL (`http://127.0.0.1:port`). */
  readonly url: string;
  /** Traces URL (`http://127.0.0.1:port/v1/traces`). */
  readonly tracesUrl: string;
  /** Every span decoded so far (only from requests answered `ok`). */
  readonly spans: ReceivedSpan[];
  /** Headers of every export request received. */
  readonly requests: IncomingHttpHeaders[];
  /** Decoding failures (a conforming exporter produces none). */
  readonly errors: string[];
  mode: ReceiverMode;
  /** Wait until `pred` holds for the spans received. */
  waitForSpans(pred: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

const HEX = (len: number): RegExp => new RegExp(`^[0-9a-f]{${len}}$`);
const TRACE_ID = HEX(32);
const SPAN_ID = HEX(16);

type Json = Record<string, unknown>;

function fail(msg: string): never {
  throw new Error(`OTLP decode: ${msg}`);
}

function obj(v: unknown, what: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${what} must be an object`);
  return v as Json;
}

function arr(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${what} must be an array`);
  return v;
}

function int64(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return fail(`${what} must be an int64 (number or decimal string), got ${JSON.stringify(v)}`);
}

function decodeValue(v: unknown, what: string): AnyValue {
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

function decodeAttributes(v: unknown, what: string): Record<string, AnyValue> {
  const out: Record<string, AnyValue> = {};
  arr(v, what).forEach((kv, i) => {
    const o = obj(kv, `${what}[${i}]`);
    if (typeof o.key !== 'string') fail(`${what}[${i}].key must be a string`);
    out[o.key] = o.value === undefined ? null : decodeValue(o.value, `${what}.${o.key}`);
  });
  return out;
}

function id(v: unknown, re: RegExp, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) fail(`${what} must be lowercase hex (OTLP JSON), got ${JSON.stringify(v)}`);
  return v;
}

/** Decode an OTLP JSON `ExportTraceServiceRequest` into flat spans. */
export function decodeTraceRequest(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  arr(obj(body, 'request').resourceSpans, 'resourceSpans').forEach((rsRaw, r) => {
    const rs = obj(rsRaw, `resourceSpans[${r}]`);
    const resource = rs.resource === undefined ? {} : decodeAttributes(obj(rs.resource, 'resource').attributes, 'resource.attributes');
    arr(rs.scopeSpans, 'scopeSpans').forEach((ssRaw, s) => {
      const ss = obj(ssRaw, `scopeSpans[${s}]`);
      const scopeRaw = ss.scope === undefined ? {} : obj(ss.scope, 'scope');
      const scope = { name: String(scopeRaw.name ?? ''), version: scopeRaw.version === undefined ? undefined : String(scopeRaw.version) };
      arr(ss.spans, 'spans').forEach((spRaw, k) => {
        const sp = obj(spRaw, `spans[${k}]`);
        const where = `span ${JSON.stringify(sp.name)}`;
        const parent = sp.parentSpanId === undefined || sp.parentSpanId === '' ? undefined : id(sp.parentSpanId, SPAN_ID, `${where}.parentSpanId`);
        const status = sp.status === undefined ? {} : obj(sp.status, `${where}.status`);
        out.push({
          traceId: id(sp.traceId, TRACE_ID, `${where}.traceId`),
          spanId: id(sp.spanId, SPAN_ID, `${where}.spanId`),
          parentSpanId: parent,
          traceState: typeof sp.traceState === 'string' && sp.traceState !== '' ? sp.traceState : undefined,
          name: typeof sp.name === 'string' ? sp.name : fail(`${where}.name must be a string`),
          kind: typeof sp.kind === 'number' ? sp.kind : fail(`${where}.kind must be an integer enum`),
          startTimeUnixNano: int64(sp.startTimeUnixNano, `${where}.startTimeUnixNano`),
          endTimeUnixNano: int64(sp.endTimeUnixNano, `${where}.endTimeUnixNano`),
          attributes: decodeAttributes(sp.attributes, `${where}.attributes`),
          events: arr(sp.events, `${where}.events`).map((eRaw, i) => {
            const e = obj(eRaw, `${where}.events[${i}]`);
            return { name: String(e.name), timeUnixNano: int64(e.timeUnixNano, `${where}.events[${i}].timeUnixNano`), attributes: decodeAttributes(e.attributes, `${where}.events[${i}].attributes`) };
          }),
          status: { code: typeof status.code === 'number' ? status.code : 0, message: typeof status.message === 'string' ? status.message : undefined },
          resource,
          scope,
        });
      });
    });
  });
  return out;
}

/**
 * Protobuf wire-format reader: varints, 64-bit fixed, length-delimited fields (the only wire types
 * OTLP trace messages use, plus fixed32 for `Span.flags`). Unknown fields are skipped as the
 * protobuf rules require.
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

  fixed64(): DataView {
    if (this.#pos + 8 > this.end) fail('truncated fixed64');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.#pos, 8);
    this.#pos += 8;
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
function fields(buf: Uint8Array): Map<number, Array<bigint | Uint8Array | DataView>> {
  const r = new ProtoReader(buf);
  const out = new Map<number, Array<bigint | Uint8Array | DataView>>();
  while (!r.done) {
    const [field, wire] = r.tag();
    let v: bigint | Uint8Array | DataView;
    if (wire === 0) v = r.varint();
    else if (wire === 2) v = r.bytes();
    else if (wire === 1) v = r.fixed64();
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

const utf8 = new TextDecoder('utf-8', { fatal: true });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
function bytesOf(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} must be length-delimited`);
  return v;
}
function str(m: Map<number, unknown[]>, field: number, what: string): string | undefined {
  const v = m.get(field)?.at(-1);
  return v === undefined ? undefined : utf8.decode(bytesOf(v, what));
}
function varintOf(m: Map<number, unknown[]>, field: number, what: string): bigint | undefined {
  const v = m.get(field)?.at(-1);
  if (v === undefined) return undefined;
  if (typeof v !== 'bigint') fail(`${what} must be a varint`);
  return v;
}
function fixed64Of(m: Map<number, unknown[]>, field: number, what: string): bigint {
  const v = m.get(field)?.at(-1);
  if (!(v instanceof DataView)) fail(`${what} must be a fixed64`);
  return v.getBigUint64(0, true);
}
function messages(m: Map<number, unknown[]>, field: number, what: string): Map<number, Array<bigint | Uint8Array | DataView>>[] {
  return (m.get(field) ?? []).map((v, i) => fields(bytesOf(v, `${what}[${i}]`)));
}

/** opentelemetry.proto.common.v1.AnyValue */
function protoValue(m: Map<number, unknown[]>, what: string): AnyValue {
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
function protoAttributes(m: Map<number, unknown[]>, field: number, what: string): Record<string, AnyValue> {
  const out: Record<string, AnyValue> = {};
  messages(m, field, what).forEach((kv, i) => {
    const key = str(kv, 1, `${what}[${i}].key`);
    if (key === undefined) fail(`${what}[${i}].key missing`);
    const value = kv.get(2)?.at(-1);
    out[key] = value === undefined ? null : protoValue(fields(bytesOf(value, `${what}.${key}`)), `${what}.${key}`);
  });
  return out;
}

function protoId(m: Map<number, unknown[]>, field: number, len: number, what: string): string | undefined {
  const v = m.get(field)?.at(-1);
  if (v === undefined) return undefined;
  const b = bytesOf(v, what);
  if (b.length === 0) return undefined;
  if (b.length !== len) fail(`${what} must be ${len} bytes, got ${b.length}`);
  return hex(b);
}

/** Decode an OTLP protobuf `ExportTraceServiceRequest` (opentelemetry.proto.collector.trace.v1) into flat spans. */
export function decodeTraceRequestProto(body: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  // ExportTraceServiceRequest: 1 resource_spans
  messages(fields(body), 1, 'resource_spans').forEach((rs, r) => {
    // ResourceSpans: 1 resource, 2 scope_spans; Resource: 1 attributes
    const resRaw = rs.get(1)?.at(-1);
    const resource = resRaw === undefined ? {} : protoAttributes(fields(bytesOf(resRaw, 'resource')), 1, 'resource.attributes');
    messages(rs, 2, `resource_spans[${r}].scope_spans`).forEach((ss) => {
      // ScopeSpans: 1 scope, 2 spans; InstrumentationScope: 1 name, 2 version
      const scopeRaw = ss.get(1)?.at(-1);
      const scopeFields = scopeRaw === undefined ? new Map<number, unknown[]>() : fields(bytesOf(scopeRaw, 'scope'));
      const scope = { name: str(scopeFields, 1, 'scope.name') ?? '', version: str(scopeFields, 2, 'scope.version') };
      messages(ss, 2, 'spans').forEach((sp, k) => {
        // Span: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name, 6 kind, 7 start, 8 end,
        // 9 attributes, 11 events, 15 status (Status: 2 message, 3 code); Event: 1 time, 2 name, 3 attributes
        const name = str(sp, 5, `spans[${k}].name`) ?? '';
        const where = `span ${JSON.stringify(name)}`;
        const traceId = protoId(sp, 1, 16, `${where}.trace_id`);
        const spanId = protoId(sp, 2, 8, `${where}.span_id`);
        if (traceId === undefined || spanId === undefined) fail(`${where} has no trace_id/span_id`);
        const statusRaw = sp.get(15)?.at(-1);
        const status = statusRaw === undefined ? new Map<number, unknown[]>() : fields(bytesOf(statusRaw, `${where}.status`));
        const traceState = str(sp, 3, `${where}.trace_state`);
        out.push({
          traceId,
          spanId,
          parentSpanId: protoId(sp, 4, 8, `${where}.parent_span_id`),
          traceState: traceState === '' ? undefined : traceState,
          name,
          kind: Number(varintOf(sp, 6, `${where}.kind`) ?? 0n),
          startTimeUnixNano: fixed64Of(sp, 7, `${where}.start_time_unix_nano`),
          endTimeUnixNano: fixed64Of(sp, 8, `${where}.end_time_unix_nano`),
          attributes: protoAttributes(sp, 9, `${where}.attributes`),
          events: messages(sp, 11, `${where}.events`).map((e, i) => ({
            name: str(e, 2, `${where}.events[${i}].name`) ?? '',
            timeUnixNano: fixed64Of(e, 1, `${where}.events[${i}].time_unix_nano`),
            attributes: protoAttributes(e, 3, `${where}.events[${i}].attributes`),
          })),
          status: { code: Number(varintOf(status, 3, `${where}.status.code`) ?? 0n), message: str(status, 2, `${where}.status.message`) || undefined },
          resource,
          scope,
        });
      });
    });
  });
  return out;
}

/** Start a receiver on 127.0.0.1:0. */
export async function startOtlpReceiver(initialMode: ReceiverMode = 'ok'): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: IncomingHttpHeaders[] = [];
  const errors: string[] = [];
  const state = { mode: initialMode };
  const srv = await startLoopbackServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(req.headers);
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (state.mode === 'hang') return;
      if (state.mode === 'unavailable') {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":14,"message":"unavailable"}');
        return;
      }
      const type = String(req.headers['content-type'] ?? '');
      const proto = type.startsWith('application/x-protobuf');
      if (!proto && !type.startsWith('application/json')) {
        errors.push(`unsupported content-type ${type}`);
        res.writeHead(415).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        spans.push(...(proto ? decodeTraceRequestProto(body) : decodeTraceRequest(JSON.parse(body.toString('utf8')))));
        // An empty ExportTraceServiceResponse in the request's encoding (zero bytes in protobuf).
        if (proto) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        errors.push(String(err));
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(err) }));
      }
    });
  });
  const { url } = srv;
  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    spans,
    requests,
    errors,
    get mode() {
      return state.mode;
    },
    set mode(m: ReceiverMode) {
      state.mode = m;
    },
    waitForSpans: (pred, timeoutMs = 15_000) => waitFor(() => (pred(spans) ? [...spans] : undefined), timeoutMs, 25, 'OTLP spans'),
    close: () => srv.stop(),
  };
}
