/**
 * The JSON line encoder: `timestamp, level, message, service, trace_id, span_id`, then the fields
 * (or an access line's facts), then the error. Computed once per line ({@link LogRecord.line}) and
 * shared by stdout, the file, Loki, the dashboard and Elasticsearch with `ecs: false`.
 */
import type { LogInfo } from './levels';
import type { AccessFacts, RecordParts, SharedJson } from './record';

/** JSON of the few strings every line repeats (level, service name), memoised; bounded. */
const repeated = new Map<string, string>();

/** `JSON.stringify(s)` for a string lines repeat (a level, a service name). */
export function jsonOf(s: string): string {
  let j = repeated.get(s);
  if (j === undefined) {
    j = JSON.stringify(s);
    if (repeated.size < 64) repeated.set(s, j);
  }
  return j;
}

/** `,"key":<JSON of value>`, or nothing where `JSON.stringify` would leave the field out (`undefined`, functions). */
export function field(key: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? '' : `,"${key}":${json}`;
}

/** The parts of a line with plain fields serialised once: message and fields. */
export function sharedJson(message: string, fields: Readonly<Record<string, unknown>>): SharedJson {
  const f = JSON.stringify(fields);
  return { message: JSON.stringify(message), fieldsTail: f.length === 2 ? '}' : `,${f.slice(1)}`, path: undefined, userAgent: undefined };
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
  if (r.traceId !== undefined) head += `,"trace_id":${JSON.stringify(r.traceId)}`;
  if (r.spanId !== undefined) head += `,"span_id":${JSON.stringify(r.spanId)}`;
  return head + json.fieldsTail;
}

/**
 * An access line without an error: the same keys in the same order and the same values as
 * `JSON.stringify` of its flat object (every request-derived string still goes through
 * `JSON.stringify`), without building and walking that object.
 */
function accessLine(r: RecordParts, a: AccessFacts, json: SharedJson): string {
  let line = `{"timestamp":${JSON.stringify(r.timestamp)}${field('level', r.level)},"message":${json.message}`;
  if (r.service !== undefined) line += `,"service":${jsonOf(r.service)}`;
  line += field('trace_id', r.traceId) + field('span_id', r.spanId);
  line += `,"type":"access"${field('method', a.method)}${field('route', a.route)},"path":${json.path as string}`;
  line += field('status', a.status) + field('duration_ms', a.durationMs) + field('response_bytes', a.responseBytes);
  line += field('client_address', a.clientAddress);
  if (json.userAgent !== undefined) line += `,"user_agent":${json.userAgent}`;
  return a.aborted ? `${line},"aborted":true}` : `${line}}`;
}

/** The strings of an access line serialised once: message, path, user agent. */
export function accessJson(message: string, a: AccessFacts): SharedJson {
  return { message: JSON.stringify(message), fieldsTail: '', path: JSON.stringify(a.path), userAgent: a.userAgent === undefined ? undefined : JSON.stringify(a.userAgent) };
}
