/**
 * The stand-in collector's log decoders: OTLP `ExportLogsServiceRequest` (opentelemetry.proto.collector.logs.v1)
 * in the JSON encoding and in protobuf (field numbers of opentelemetry-proto's logs.proto), into flat records.
 */
import {
  eachScopedItem,
  eachScopedItemJson,
  bytesOf,
  decodeAttributes,
  decodeValue,
  fields,
  fixed32Of,
  fixed64Of,
  id,
  int64,
  protoAttributes,
  protoId,
  protoValue,
  SPAN_ID,
  str,
  TRACE_ID,
  varintOf,
  type AnyValue,
} from './otlp-wire';

/** One log record as decoded from an export request. */
export interface ReceivedLogRecord {
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string | undefined;
  readonly body: AnyValue;
  readonly attributes: Readonly<Record<string, AnyValue>>;
  /** W3C trace flags (0 when absent). */
  readonly flags: number;
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
  readonly resource: Readonly<Record<string, AnyValue>>;
  readonly scope: { readonly name: string; readonly version: string | undefined };
}

function optionalId(v: unknown, re: RegExp, what: string): string | undefined {
  return v === undefined || v === '' ? undefined : id(v, re, what);
}

/** Decode an OTLP JSON `ExportLogsServiceRequest` into flat records. */
export function decodeLogsRequest(body: unknown): ReceivedLogRecord[] {
  const out: ReceivedLogRecord[] = [];
  eachScopedItemJson(body, 'logs', (lr, k, resource, scope) => {
    const where = `logRecords[${k}]`;
    out.push({
      timeUnixNano: int64(lr.timeUnixNano ?? 0, `${where}.timeUnixNano`),
      observedTimeUnixNano: int64(lr.observedTimeUnixNano ?? 0, `${where}.observedTimeUnixNano`),
      severityNumber: typeof lr.severityNumber === 'number' ? lr.severityNumber : 0,
      severityText: typeof lr.severityText === 'string' ? lr.severityText : undefined,
      body: lr.body === undefined ? null : decodeValue(lr.body, `${where}.body`),
      attributes: decodeAttributes(lr.attributes, `${where}.attributes`),
      flags: typeof lr.flags === 'number' ? lr.flags : 0,
      traceId: optionalId(lr.traceId, TRACE_ID, `${where}.traceId`),
      spanId: optionalId(lr.spanId, SPAN_ID, `${where}.spanId`),
      resource,
      scope,
    });
  });
  return out;
}

/** Decode an OTLP protobuf `ExportLogsServiceRequest` into flat records. */
export function decodeLogsRequestProto(body: Uint8Array): ReceivedLogRecord[] {
  const out: ReceivedLogRecord[] = [];
  eachScopedItem(body, 'logs', (lr, k, resource, scope) => {
    // LogRecord: 1 time_unix_nano, 11 observed_time_unix_nano, 2 severity_number, 3 severity_text,
    // 5 body, 6 attributes, 8 flags (fixed32), 9 trace_id, 10 span_id
    const where = `log_records[${k}]`;
    const bodyRaw = lr.get(5)?.at(-1);
    out.push({
      timeUnixNano: lr.has(1) ? fixed64Of(lr, 1, `${where}.time_unix_nano`) : 0n,
      observedTimeUnixNano: lr.has(11) ? fixed64Of(lr, 11, `${where}.observed_time_unix_nano`) : 0n,
      severityNumber: Number(varintOf(lr, 2, `${where}.severity_number`) ?? 0n),
      severityText: str(lr, 3, `${where}.severity_text`),
      body: bodyRaw === undefined ? null : protoValue(fields(bytesOf(bodyRaw, `${where}.body`)), `${where}.body`),
      attributes: protoAttributes(lr, 6, `${where}.attributes`),
      flags: fixed32Of(lr, 8, `${where}.flags`) ?? 0,
      traceId: protoId(lr, 9, 16, `${where}.trace_id`),
      spanId: protoId(lr, 10, 8, `${where}.span_id`),
      resource,
      scope,
    });
  });
  return out;
}
