/**
 * The request participant of the logging subsystem: binds `req.log` to the request and
 * writes one access line per finished request (level by status), straight to the
 * logger's transports (one `JSON.stringify` per line), marked {@link ACCESS_LINE} so the
 * Elasticsearch transport can build its ECS document without the generic mapping.
 */
import type { CompletedRequest, RequestParticipant, RequestState } from '../middleware';
import { isoNow } from '../util/clock';
import { clientAddress, contentLength } from '../util/request-facts';
import { ACCESS_LINE, LEVEL, MESSAGE, SAFE, type LogInfo } from './levels';
import { acceptsLevel, writeDirect, type ObservabilityLogger } from './logger';
import { RequestLogger, requestLogBinder } from './request-log';
import { field } from './ecs';
import type { Redactor } from '../redaction/redactor';
import { serializeError } from './serialize';

/** Settings of {@link createLoggingParticipant}. */
export interface AccessLogSettings {
  readonly logger: ObservabilityLogger;
  readonly service: string;
  /** The instance's redaction policy (the URL and a 5xx's error are redacted). */
  readonly redactor: Redactor;
  /** Write access lines at all. */
  readonly enabled: boolean;
  /** Paths (without query) that get no access line: exact strings or RegExps. */
  readonly skipPaths: readonly (string | RegExp)[];
  /** Report a failure without breaking the request. */
  readonly reportError: (component: string, err: unknown) => void;
  /** The state of a request the middleware measures (for `req.log` served by a prototype getter). */
  readonly stateOf: (req: object) => RequestState | undefined;
  /** The `req.log` of requests that are not logged (a logger that writes nothing). */
  readonly silentLog: () => RequestLogger;
}

/** Level of an access line: 5xx error, 4xx warn, else info. */
export function accessLevel(statusCode: number): 'error' | 'warn' | 'info' {
  if (statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'warn';
  return 'info';
}

/**
 * `JSON.stringify(info)` of an access line without an error, written as one template: the same keys
 * in the same order and the same values (every request-derived string still goes through
 * `JSON.stringify`), without walking the object. `serviceJson` is the service name's JSON.
 */
export function accessJson(info: LogInfo, serviceJson: string): string {
  let line = `{"timestamp":${JSON.stringify(info.timestamp)}${field('level', info.level)}${field('message', info.message)},"service":${serviceJson}`;
  line += field('trace_id', info.trace_id) + field('span_id', info.span_id);
  line += `,"type":"access"${field('method', info.method)}${field('route', info.route)}${field('path', info.path)}`;
  line += field('status', info.status) + field('duration_ms', info.duration_ms) + field('response_bytes', info.response_bytes);
  line += field('client_address', info.client_address) + field('user_agent', info.user_agent) + field('aborted', info.aborted);
  return `${line}}`;
}

/** Build the logging participant (register it after tracing's, so the request's span ids are known). */
export function createLoggingParticipant(s: AccessLogSettings): RequestParticipant {
  const exact = new Set(s.skipPaths.filter((p): p is string => typeof p === 'string'));
  const patterns = s.skipPaths.filter((p): p is RegExp => p instanceof RegExp);
  const { logger, redactor } = s;
  const serviceJson = JSON.stringify(s.service);

  function skipped(path: string): boolean {
    if (exact.has(path)) return true;
    for (const re of patterns) if (re.test(path)) return true;
    return false;
  }

  function accessLine(done: CompletedRequest): void {
    const { req, res, state } = done;
    if (skipped(done.path)) return;
    const level = accessLevel(done.statusCode);
    if (!acceptsLevel(logger, level)) return;
    const url = redactor.text(done.url);
    const ua = req.headers['user-agent'];
    const info: LogInfo = {
      timestamp: isoNow(),
      level,
      message: `${done.method} ${url} ${done.status}`,
      service: s.service,
    };
    if (state.traceId) {
      info.trace_id = state.traceId;
      if (state.spanId) info.span_id = state.spanId;
    }
    info.type = 'access';
    info.method = done.method;
    info.route = done.route;
    info.path = url;
    info.status = done.statusCode;
    info.duration_ms = Math.round(done.durationMs * 1000) / 1000;
    const bytes = contentLength(res.getHeader('content-length'));
    if (bytes !== undefined) info.response_bytes = bytes;
    const client = clientAddress(req, state);
    if (client !== undefined) info.client_address = client;
    if (typeof ua === 'string') info.user_agent = redactor.text(ua);
    if (done.aborted) info.aborted = true;
    if (level === 'error' && state.error instanceof Error) info.error = serializeError(state.error, redactor);
    info[MESSAGE] = info.error === undefined ? accessJson(info, serviceJson) : JSON.stringify(info);
    info[LEVEL] = level;
    info[SAFE] = true;
    info[ACCESS_LINE] = true;
    writeDirect(logger, info);
  }

  const logOf = (state: RequestState): RequestLogger => {
    if (state.log === undefined) state.log = new RequestLogger(logger, state);
    return state.log as RequestLogger;
  };
  const bindLog = requestLogBinder(
    (req) => {
      const state = s.stateOf(req);
      return state === undefined ? undefined : logOf(state);
    },
    logOf,
    s.silentLog,
  );

  return {
    start: bindLog.start,
    skip: bindLog.skip,
    finish(done: CompletedRequest): void {
      if (!s.enabled) return;
      try {
        accessLine(done);
      } catch (err) {
        s.reportError('access-log', err);
      }
    },
  };
}
