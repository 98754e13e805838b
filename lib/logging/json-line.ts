/**
 * The JSON line encoder: `timestamp, level, message, service, trace_id, span_id`, then the fields
 * (or an access line's facts), then the error. Computed once per line ({@link LogRecord.line}) and
 * shared by stdout, the file, Loki, the dashboard and Elasticsearch with `ecs: false`.
 */
import type { LogInfo } from './levels';
import type { AccessFacts, RecordParts, SharedJson } from './record';
import { jsonNumber, jsonText } from '../util/json';

/** JSON of the strings lines repeat (levels, service names, methods, route labels), memoised; at most 1,024 kept. */
const repeated = new Map<string, string>();

/** `JSON.stringify(s)` for a string lines repeat: a level, a service name, a method, a route label (bounded by the route cap). */
export function jsonOf(s: string): string {
  let j = repeated.get(s);
  if (j === undefined) {
    j = JSON.stringify(s);
    if (repeated.size < 1024) repeated.set(s, j);
  }
  return j;
}

/** The parts of a line with plain fields serialised once: message and fields. */
export function sharedJson(message: string, fields: Readonly<Record<string, unknown>>): SharedJson {
  const f = JSON.stringify(fields);
  return {
    message: jsonText(message),
    fieldsTail: f.length === 2 ? '}' : `,${f.slice(1)}`,
    path: undefined,
    userAgent: undefined,
    method: undefined,
    route: undefined,
    client: undefined,
  };
}

/**
 * The JSON line of a record: `JSON.stringify(flat)` (`flat` being {@link flatten} of the record),
 * written as a template where that is cheaper: plain fields follow the fixed keys as serialised once
 * ({@link sharedJson}); an access line without an error is one template over its facts.
 */
export function encodeLine(r: RecordParts, flat: LogInfo): string {
  const json = r.json;
  if (r.access !== undefined) return r.error === undefined && json !== undefined ? accessLine(r, r.access, json) : JSON.stringify(flat);
  if (json === undefined) return JSON.stringify(flat);
  let head = `{"timestamp":"${r.timestamp}","level":${jsonOf(r.level)},"message":${json.message}`;
  if (r.service !== undefined) head += `,"service":${jsonOf(r.service)}`;
  if (r.traceId !== undefined) head += `,"trace_id":${jsonText(r.traceId)}`;
  if (r.spanId !== undefined) head += `,"span_id":${jsonText(r.spanId)}`;
  return head + json.fieldsTail;
}

/**
 * An access line without an error: the same keys in the same order and the same values as
 * `JSON.stringify` of its flat object (every request-derived string still goes through
 * `JSON.stringify` or {@link jsonText}), without building and walking that object.
 */
function accessLine(r: RecordParts, a: AccessFacts, json: SharedJson): string {
  let line = `{"timestamp":${jsonText(r.timestamp)},"level":${jsonOf(r.level)},"message":${json.message}`;
  if (r.service !== undefined) line += `,"service":${jsonOf(r.service)}`;
  if (r.traceId !== undefined) line += `,"trace_id":${jsonText(r.traceId)}`;
  if (r.spanId !== undefined) line += `,"span_id":${jsonText(r.spanId)}`;
  line += `,"type":"access","method":${json.method as string},"route":${json.route as string},"path":${json.path as string}`;
  line += `,"status":${jsonNumber(a.status)},"duration_ms":${jsonNumber(a.durationMs)}`;
  if (a.responseBytes !== undefined) line += `,"response_bytes":${jsonNumber(a.responseBytes)}`;
  if (json.client !== undefined) line += `,"client_address":${json.client}`;
  if (json.userAgent !== undefined) line += `,"user_agent":${json.userAgent}`;
  return a.aborted ? `${line},"aborted":true}` : `${line}}`;
}

/** The strings of an access line serialised once, for its JSON line and its ECS document: message, method, route, path, client address, user agent. */
export function accessJson(message: string, a: AccessFacts): SharedJson {
  return {
    message: jsonText(message),
    fieldsTail: '',
    path: jsonText(a.path),
    userAgent: a.userAgent === undefined ? undefined : jsonText(a.userAgent),
    method: jsonOf(a.method),
    route: jsonOf(a.route),
    client: a.clientAddress === undefined ? undefined : jsonText(a.clientAddress),
  };
}
