/**
 * The request participant of the logging subsystem: binds `req.log` to the request and
 * writes one access line per finished request (level by status), straight to the
 * logger's transports: a {@link LogRecord} whose `access` facts every sink's encoder reads, its
 * JSON line serialised once.
 */
import { pathMatcher } from '../util/path-match';
import type { CompletedRequest, RequestParticipant, RequestState } from '../middleware';
import { isoAt, wallClockOf } from '../util/clock';
import { accessJson, encodeLine } from './json-line';
import type { SharedLogger } from './logger';
import { attachRecord, NO_FIELDS, type AccessFacts, type LogRecord } from './record';
import { RequestLogger, requestLogBinder } from './request-log';
import type { Redactor } from '../redaction/redactor';
import { serializeError } from './serialize';

/** Settings of {@link createLoggingParticipant}. */
export interface AccessLogSettings {
  readonly logger: SharedLogger;
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

/** Build the logging participant (register it after tracing's, so the request's span ids are known). */
export function createLoggingParticipant(s: AccessLogSettings): RequestParticipant {
  const skipped = pathMatcher(s.skipPaths);
  const { logger, redactor } = s;

  function accessLine(done: CompletedRequest): void {
    const { state } = done;
    if (skipped !== undefined && skipped(done.path)) return;
    const level = accessLevel(done.statusCode);
    if (!logger.accepts(level)) return;
    const url = redactor.text(done.url);
    const ua = done.userAgent;
    const access: AccessFacts = {
      method: done.method,
      route: done.route,
      path: url,
      status: done.statusCode,
      durationMs: Math.round(done.durationMs * 1000) / 1000,
      responseBytes: done.responseBytes,
      clientAddress: done.clientAddress,
      userAgent: ua === undefined ? undefined : redactor.text(ua),
      aborted: done.aborted,
    };
    const message = `${done.method} ${url} ${done.status}`;
    const error = level === 'error' && state.error instanceof Error ? serializeError(state.error, redactor) : undefined;
    const record: LogRecord = {
      timestamp: isoAt(wallClockOf(done.end)),
      level,
      message,
      service: s.service,
      traceId: state.traceId || undefined,
      spanId: state.traceId ? state.spanId || undefined : undefined,
      traceFlags: state.traceId ? (state.sampled ? 1 : 0) : undefined,
      fields: NO_FIELDS,
      error,
      errorKey: 'error',
      access,
      // With an error, the line and the document are the generic serialisations of the flat object.
      json: error === undefined ? accessJson(message, access) : undefined,
      line: '',
    };
    const info = attachRecord(record, level, encodeLine);
    logger.write(info);
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
