/**
 * Elastic Common Schema documents from our log entries: `@timestamp`, `log.level`,
 * `message`, `service.name`, `trace.id`, `span.id`, `error.*`, and for access lines
 * `http.*`, `url.*`, `client.address`, `user_agent.original`, `event.duration`.
 *
 * Why not `@elastic/ecs-winston-format`'s `ecsFields()`: it stamps `@timestamp` with the
 * time of formatting rather than the entry's, takes trace ids only from the Elastic APM
 * agent, mutates the info object every transport shares, and re-serialises through
 * safe-stable-stringify; our entries are redacted and JSON-safe already, so a direct
 * mapping of the same field names is both correct and cheaper.
 */
import { isoNow } from '../util/clock';
import type { LogInfo } from './levels';
import { jsonOf } from './json-line';
import { jsonNumber, jsonText } from '../util/json';
import { flatten, type AccessFacts, type LogRecord, type SharedJson } from './record';

/** The ECS version the documents follow (`ecs.version`). */
export const ECS_VERSION = '8.11.0';

/** Keys mapped explicitly (everything else is copied as is). */
const MAPPED = new Set(['timestamp', 'level', 'message', 'service', 'trace_id', 'span_id', 'error']);
/** Access-line keys mapped to `http.*` / `url.*` / `client.*` / `user_agent.*` / `event.*`. */
const ACCESS = new Set(['type', 'method', 'route', 'path', 'status', 'duration_ms', 'response_bytes', 'client_address', 'user_agent', 'aborted']);

function mapError(doc: Record<string, unknown>, e: unknown): void {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) {
    doc['error.message'] = typeof e === 'string' ? e : JSON.stringify(e);
    return;
  }
  const err = e as Record<string, unknown>;
  if (typeof err.name === 'string') doc['error.type'] = err.name;
  if (err.message !== undefined) doc['error.message'] = String(err.message);
  if (typeof err.stack === 'string') doc['error.stack_trace'] = err.stack;
  if (err.cause !== undefined) {
    const c = err.cause as Record<string, unknown> | string;
    doc['error.cause'] = typeof c === 'object' && c !== null && typeof c.stack === 'string' ? c.stack : JSON.stringify(c);
  }
  if (err.code !== undefined) doc['error.code'] = String(err.code);
}

/** The ECS document of one (redacted, JSON-safe) flat entry: any info object, or a record's {@link flatten}. */
export function toEcs(info: LogInfo, serviceName: string | undefined): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    '@timestamp': typeof info.timestamp === 'string' ? info.timestamp : isoNow(),
    'log.level': info.level,
    message: info.message,
    'ecs.version': ECS_VERSION,
  };
  const service = typeof info.service === 'string' ? info.service : serviceName;
  if (service !== undefined) doc['service.name'] = service;
  if (typeof info.trace_id === 'string') doc['trace.id'] = info.trace_id;
  if (typeof info.span_id === 'string') doc['span.id'] = info.span_id;
  if (info.error !== undefined) mapError(doc, info.error);
  const access = info.type === 'access';
  if (access) {
    doc['log.logger'] = 'access';
    doc['event.kind'] = 'event';
    doc['event.category'] = ['web'];
    if (info.method !== undefined) doc['http.request.method'] = info.method;
    if (info.status !== undefined) doc['http.response.status_code'] = info.status;
    if (info.response_bytes !== undefined) doc['http.response.body.bytes'] = info.response_bytes;
    if (info.route !== undefined) doc['http.route'] = info.route;
    if (typeof info.path === 'string') {
      doc['url.original'] = info.path;
      const q = info.path.indexOf('?');
      doc['url.path'] = q === -1 ? info.path : info.path.slice(0, q);
      if (q !== -1) doc['url.query'] = info.path.slice(q + 1);
    }
    if (typeof info.duration_ms === 'number') doc['event.duration'] = Math.round(info.duration_ms * 1e6);
    if (info.client_address !== undefined) doc['client.address'] = info.client_address;
    if (info.user_agent !== undefined) doc['user_agent.original'] = info.user_agent;
    if (info.aborted === true) doc['event.outcome'] = 'failure';
  }
  for (const key of Object.keys(info)) {
    if (MAPPED.has(key) || (access && ACCESS.has(key))) continue;
    if (doc[key] === undefined) doc[key] = info[key];
  }
  return doc;
}

/**
 * The ECS document of a record as a JSON string: an access line without an error and a line with
 * plain fields are written as templates (the plain fields as serialised once for the JSON line);
 * everything else goes through {@link toEcs} of the record's flat object.
 */
export function ecsJson(r: LogRecord, serviceName: string | undefined): string {
  const json = r.json;
  if (r.access !== undefined && r.error === undefined && json !== undefined) return accessEcsJson(r, r.access, json, serviceName);
  if (json === undefined) return JSON.stringify(toEcs(flatten(r), serviceName));
  const service = r.service ?? serviceName;
  let head = `{"@timestamp":"${r.timestamp}","log.level":${jsonOf(r.level)},"message":${json.message},"ecs.version":"${ECS_VERSION}"`;
  if (service !== undefined) head += `,"service.name":${jsonOf(service)}`;
  if (r.traceId !== undefined) head += `,"trace.id":${jsonText(r.traceId)}`;
  if (r.spanId !== undefined) head += `,"span.id":${jsonText(r.spanId)}`;
  return head + json.fieldsTail;
}

/**
 * {@link toEcs} of an access line without an error, as a string: the same keys in the same order and
 * the same values as `JSON.stringify` of that document, written as one template (every string value
 * still goes through `JSON.stringify`; only the constant keys and values are literal). About twice as
 * fast as building the 21-key object and serialising it.
 */
function accessEcsJson(r: LogRecord, a: AccessFacts, json: SharedJson, serviceName: string | undefined): string {
  const path = a.path;
  const q = path.indexOf('?');
  const service = r.service ?? serviceName;
  const pathJson = json.path as string;
  let out = `{"@timestamp":${jsonText(r.timestamp)},"log.level":${jsonOf(r.level)},"message":${json.message},"ecs.version":"${ECS_VERSION}"`;
  if (service !== undefined) out += `,"service.name":${jsonOf(service)}`;
  if (r.traceId !== undefined) out += `,"trace.id":${jsonText(r.traceId)}`;
  if (r.spanId !== undefined) out += `,"span.id":${jsonText(r.spanId)}`;
  out += `,"log.logger":"access","event.kind":"event","event.category":["web"]`;
  out += `,"http.request.method":${json.method as string},"http.response.status_code":${jsonNumber(a.status)}`;
  if (a.responseBytes !== undefined) out += `,"http.response.body.bytes":${jsonNumber(a.responseBytes)}`;
  out += `,"http.route":${json.route as string}`;
  out += `,"url.original":${pathJson},"url.path":${q === -1 ? pathJson : jsonText(path.slice(0, q))}`;
  if (q !== -1) out += `,"url.query":${jsonText(path.slice(q + 1))}`;
  out += `,"event.duration":${jsonNumber(Math.round(a.durationMs * 1e6))}`;
  if (json.client !== undefined) out += `,"client.address":${json.client}`;
  if (json.userAgent !== undefined) out += `,"user_agent.original":${json.userAgent}`;
  if (a.aborted) out += `,"event.outcome":"failure"`;
  return `${out}}`;
}
