/**
 * A stand-in OpenTelemetry collector: an OTLP/HTTP receiver for traces (`POST /v1/traces`) and logs
 * (`POST /v1/logs`, decoded by ./otlp-logs.ts) that decodes
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
import {
  eachScopedItem,
  eachScopedItemJson,
  arr,
  bytesOf,
  decodeAttributes,
  fail,
  fields,
  fixed64Of,
  id,
  int64,
  messages,
  obj,
  protoAttributes,
  protoId,
  SPAN_ID,
  str,
  TRACE_ID,
  varintOf,
  type AnyValue,
} from './otlp-wire';
import { decodeLogsRequest, decodeLogsRequestProto, type ReceivedLogRecord } from './otlp-logs';

export type { ReceivedLogRecord } from './otlp-logs';

/** OTLP `Span.SpanKind` values (note: not the OpenTelemetry API's numbering). */
export const OTLP_KIND = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP `Status.StatusCode` values. */
export const OTLP_STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export type { AnyValue } from './otlp-wire';

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
  /** Logs URL (`http://127.0.0.1:port/v1/logs`). */
  readonly logsUrl: string;
  /** Every span decoded so far (only from requests answered `ok`). */
  readonly spans: ReceivedSpan[];
  /** Every log record decoded so far (only from requests answered `ok`). */
  readonly logs: ReceivedLogRecord[];
  /** Headers of every trace export request received. */
  readonly requests: IncomingHttpHeaders[];
  /** Headers of every log export request received. */
  readonly logRequests: IncomingHttpHeaders[];
  /** Decoding failures (a conforming exporter produces none). */
  readonly errors: string[];
  mode: ReceiverMode;
  /** Wait until `pred` holds for the spans received. */
  waitForSpans(pred: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Wait until `pred` holds for the log records received. */
  waitForLogs(pred: (logs: readonly ReceivedLogRecord[]) => boolean, timeoutMs?: number): Promise<ReceivedLogRecord[]>;
  close(): Promise<void>;
}

/** Decode an OTLP JSON `ExportTraceServiceRequest` into flat spans. */
export function decodeTraceRequest(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  eachScopedItemJson(body, 'spans', (sp, k, resource, scope) => {
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
  return out;
}

/** Decode an OTLP protobuf `ExportTraceServiceRequest` (opentelemetry.proto.collector.trace.v1) into flat spans. */
export function decodeTraceRequestProto(body: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  eachScopedItem(body, 'spans', (sp, k, resource, scope) => {
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
  return out;
}

/** Decode one export request body of `signal` in its content type; throws on anything a conforming exporter would not send. */
function decodeBody(signal: 'traces' | 'logs', proto: boolean, body: Buffer): { spans: ReceivedSpan[]; logs: ReceivedLogRecord[] } {
  if (signal === 'traces') return { spans: proto ? decodeTraceRequestProto(body) : decodeTraceRequest(JSON.parse(body.toString('utf8'))), logs: [] };
  return { spans: [], logs: proto ? decodeLogsRequestProto(body) : decodeLogsRequest(JSON.parse(body.toString('utf8'))) };
}

/** Start a receiver on 127.0.0.1:0. */
export async function startOtlpReceiver(initialMode: ReceiverMode = 'ok'): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const logs: ReceivedLogRecord[] = [];
  const requests: IncomingHttpHeaders[] = [];
  const logRequests: IncomingHttpHeaders[] = [];
  const errors: string[] = [];
  const state = { mode: initialMode };
  const srv = await startLoopbackServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signal = req.url === '/v1/traces' ? 'traces' : req.url === '/v1/logs' ? 'logs' : undefined;
      if (req.method !== 'POST' || signal === undefined) {
        res.writeHead(404).end();
        return;
      }
      (signal === 'traces' ? requests : logRequests).push(req.headers);
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
        const decoded = decodeBody(signal, proto, body);
        spans.push(...decoded.spans);
        logs.push(...decoded.logs);
        // An empty Export*ServiceResponse in the request's encoding (zero bytes in protobuf).
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
    logsUrl: `${url}/v1/logs`,
    spans,
    logs,
    requests,
    logRequests,
    errors,
    get mode() {
      return state.mode;
    },
    set mode(m: ReceiverMode) {
      state.mode = m;
    },
    waitForSpans: (pred, timeoutMs = 15_000) => waitFor(() => (pred(spans) ? [...spans] : undefined), timeoutMs, 25, 'OTLP spans'),
    waitForLogs: (pred, timeoutMs = 15_000) => waitFor(() => (pred(logs) ? [...logs] : undefined), timeoutMs, 25, 'OTLP log records'),
    close: () => srv.stop(),
  };
}
