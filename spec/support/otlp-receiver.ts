/**
 * A stand-in OpenTelemetry collector: an OTLP/HTTP receiver for traces (`POST /v1/traces`) that decodes
 * what an exporter really sends, following the OTLP specification's JSON encoding
 * (opentelemetry-proto `ExportTraceServiceRequest`; ids as lowercase hex, enums as integers, 64-bit
 * integers as strings or numbers, optional gzip). Protobuf bodies are refused with 415: our exporter is
 * `@opentelemetry/exporter-trace-otlp-http`, which sends JSON. No real collector can be installed here.
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
      if (!type.startsWith('application/json')) {
        errors.push(`unsupported content-type ${type}`);
        res.writeHead(415).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        spans.push(...decodeTraceRequest(JSON.parse(body.toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
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
