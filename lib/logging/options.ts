/** The `logging` section of the options: types, defaults and validation. */
import type TransportStream from 'winston-transport';
import { readBool, readEnum, readNumber, readOptionalString, readPatterns, readSection, typeError, type Bag } from '../util/validate';
import { resolveElasticsearchOptions, type ElasticsearchTransportOptions } from './elasticsearch';
import { LOG_LEVEL_NAMES, type LogLevel } from './levels';
import { resolveLokiOptions, type LokiTransportOptions } from './loki';
import { resolveOtlpLogsOptions, type OtlpLogsOptions, type ResolvedOtlpLogsOptions } from './otlp-options';
import { resolveSpoolOptions, type ResolvedSpoolOptions, type SpoolOptions } from './spool-options';

/** Options of the access log (one line per request). */
export interface AccessLogOptions {
  /** Write access lines. Default `true`. */
  readonly enabled?: boolean;
  /** Paths (exact strings, or RegExps tested against the path without query) that get no access line. Default `[]`. */
  readonly skipPaths?: readonly (string | RegExp)[];
}

/** Options of the logger and the log shippers. */
export interface LoggingOptions {
  /** `false` turns logging off: the logger writes nothing, no access log, no shipping. Default `true`. */
  readonly enabled?: boolean;
  /** Lowest level written: `error`, `warn`, `info` or `debug`. Default `"info"`. */
  readonly level?: LogLevel;
  /**
   * Extra secret keys, the same as `redaction.add` (kept for compatibility; prefer `redaction`): applied
   * to logs, access lines, spans and the dashboard alike (docs/redaction.md). Default `[]`.
   */
  readonly redact?: readonly (string | RegExp)[];
  /** Write JSON lines to stdout. Default `true`. */
  readonly stdout?: boolean;
  /** Also append JSON lines to this file. Default: none. */
  readonly file?: string;
  /** Extra winston transports; they receive entries already redacted and correlated. Default `[]`. */
  readonly transports?: readonly TransportStream[];
  /** The access log; `false` turns it off. Default `{ enabled: true, skipPaths: [] }`. */
  readonly accessLog?: boolean | AccessLogOptions;
  /** Ship to Elasticsearch / OpenSearch (`_bulk`). Default: off. */
  readonly elasticsearch?: ElasticsearchTransportOptions;
  /** Ship to Grafana Loki (push API). Default: off. */
  readonly loki?: LokiTransportOptions;
  /**
   * Send every line as an OpenTelemetry log record over OTLP/HTTP (`true`, `false` or options). Default: off,
   * unless `OTEL_LOGS_EXPORTER=otlp` or `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` says otherwise (docs/otlp.md).
   */
  readonly otlp?: boolean | OtlpLogsOptions;
  /**
   * How long `shutdown()` waits for the shippers to deliver what is queued (the only bound of the log drain);
   * what is left then is kept in the spool, or reported lost. Default `8000` ms.
   */
  readonly shutdownTimeoutMs?: number;
  /** On-disk spool of the shippers: lines survive a crash and are replayed at the next start (docs/spool.md). Default: off. */
  readonly spool?: SpoolOptions;
}

/** Logging options with defaults resolved. */
export interface ResolvedLoggingOptions {
  readonly enabled: boolean;
  readonly file: string | undefined;
  readonly level: LogLevel;
  readonly redact: readonly (string | RegExp)[];
  readonly stdout: boolean;
  readonly transports: readonly TransportStream[];
  readonly accessLog: { readonly enabled: boolean; readonly skipPaths: readonly (string | RegExp)[] };
  /** Validated shipper options (the transports are built by the logging subsystem). */
  readonly elasticsearch: ElasticsearchTransportOptions | undefined;
  readonly loki: LokiTransportOptions | undefined;
  /** Logs over OTLP; `undefined` when off. */
  readonly otlp: ResolvedOtlpLogsOptions | undefined;
  readonly shutdownTimeoutMs: number;
  readonly spool: ResolvedSpoolOptions | undefined;
}

const LOGGING_KEYS = ['enabled', 'file', 'level', 'redact', 'stdout', 'transports', 'accessLog', 'elasticsearch', 'loki', 'otlp', 'shutdownTimeoutMs', 'spool'] as const;

function readTransports(bag: Bag): readonly TransportStream[] {
  const v = bag.transports;
  if (v === undefined) return Object.freeze([]);
  if (!Array.isArray(v)) typeError('logging.transports', 'an array of winston transports', v);
  v.forEach((t: unknown, i: number) => {
    if (t === null || typeof t !== 'object' || typeof (t as { log?: unknown }).log !== 'function') {
      typeError(`logging.transports[${i}]`, 'a winston transport (an object with a log() method)', t);
    }
  });
  return Object.freeze([...(v as TransportStream[])]);
}

function readAccessLog(v: unknown): ResolvedLoggingOptions['accessLog'] {
  if (typeof v === 'boolean') return Object.freeze({ enabled: v, skipPaths: Object.freeze([]) });
  const a = readSection(v, 'logging.accessLog', ['enabled', 'skipPaths']);
  return Object.freeze({
    enabled: readBool(a, 'enabled', 'logging.accessLog', true),
    skipPaths: readPatterns(a, 'skipPaths', 'logging.accessLog', Object.freeze([])),
  });
}

/** Validate the `logging` section and resolve its defaults (`env`: the `OTEL_*` variables of logs over OTLP). */
export function resolveLoggingOptions(section: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedLoggingOptions {
  const l = readSection(section, 'logging', LOGGING_KEYS);
  if (l.elasticsearch !== undefined) resolveElasticsearchOptions(l.elasticsearch, 'logging.elasticsearch');
  if (l.loki !== undefined) resolveLokiOptions(l.loki, 'logging.loki');
  // Options of a transport used on its own: an instance's transports take its registry and service name.
  for (const [name, keys] of [['elasticsearch', ['registry', 'serviceName']], ['loki', ['registry']]] as const) {
    const given = l[name] as Record<string, unknown> | undefined;
    for (const key of keys) {
      if (given?.[key] !== undefined) typeError(`logging.${name}.${key}`, `left out: it is an option of a transport used on its own (an instance's transports use the instance's ${key})`, given[key]);
    }
  }
  return Object.freeze({
    enabled: readBool(l, 'enabled', 'logging', true),
    file: readOptionalString(l, 'file', 'logging'),
    level: readEnum(l, 'level', 'logging', LOG_LEVEL_NAMES, 'info'),
    redact: readPatterns(l, 'redact', 'logging', Object.freeze([])),
    stdout: readBool(l, 'stdout', 'logging', true),
    transports: readTransports(l),
    accessLog: readAccessLog(l.accessLog),
    elasticsearch: l.elasticsearch === undefined ? undefined : Object.freeze({ ...(l.elasticsearch as ElasticsearchTransportOptions) }),
    loki: l.loki === undefined ? undefined : Object.freeze({ ...(l.loki as LokiTransportOptions) }),
    otlp: resolveOtlpLogsOptions(l.otlp, env),
    shutdownTimeoutMs: readNumber(l, 'shutdownTimeoutMs', 'logging', 8000, { min: 1 }),
    spool: resolveSpoolOptions(l.spool),
  });
}
