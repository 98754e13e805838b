/** The `logging.otlp` section (log records over OTLP/HTTP) and the `OTEL_*` variables that switch it on. */
import {
  checkHttpUrl,
  checkOtlpHeaderVariables,
  checkOtlpTimeoutVariables,
  DEFAULT_OTLP_PROTOCOL,
  envError,
  envInt,
  OTLP_PROTOCOLS,
  otlpDefaultEndpoint,
  otlpEnvEndpoint,
  otlpEnvProtocol,
  type OtlpProtocol,
} from '../otlp/env';
import { MAX_TIMER_MS, rangeError, readBool, readEnum, readNumber, readOptionalString, readSection, readHeaders, typeError, type Bag } from '../util/validate';
import { LOG_LEVEL_NAMES, type LogLevel } from './levels';

/**
 * Options of log shipping over OTLP/HTTP (`logging.otlp`): every line, access lines included, becomes
 * an OpenTelemetry log record sent to a collector. Options win over the `OTEL_*` variables.
 */
export interface OtlpLogsOptions {
  /**
   * Send logs over OTLP. Default: `true` when the `logging.otlp` section is given; without it, on when
   * `OTEL_LOGS_EXPORTER` lists `otlp` or `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` is set, unless `OTEL_SDK_DISABLED=true`.
   */
  readonly enabled?: boolean;
  /**
   * Full OTLP/HTTP logs URL, e.g. `http://collector:4318/v1/logs`. Default: `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`,
   * else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/logs`, else `http://localhost:4318/v1/logs`.
   */
  readonly endpoint?: string;
  /**
   * `http/protobuf` (`@opentelemetry/exporter-logs-otlp-proto`) or `http/json` (`@opentelemetry/exporter-logs-otlp-http`).
   * Default: `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`.
   */
  readonly protocol?: OtlpProtocol;
  /**
   * Headers of every export request. Default `{}`; the exporter adds those of `OTEL_EXPORTER_OTLP_HEADERS`
   * and `OTEL_EXPORTER_OTLP_LOGS_HEADERS` (the logs one wins per header name, this option over both).
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Lowest level sent. Default: the logger's level. */
  readonly level?: LogLevel;
  /** Records waiting for export; past it records are dropped and counted (`reason="queue_full"`). Default: `OTEL_BLRP_MAX_QUEUE_SIZE`, else `2048`. */
  readonly maxQueueSize?: number;
  /** Records per export request (at most `maxQueueSize`). Default: `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`, else `512`. */
  readonly maxExportBatchSize?: number;
  /** Delay between two batch exports, ms. Default: `OTEL_BLRP_SCHEDULE_DELAY`, else `1000`. */
  readonly scheduledDelayMillis?: number;
  /** Upper bound of one export, ms. Default: `OTEL_BLRP_EXPORT_TIMEOUT`, else `30000` (the request itself: `OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT`, else `10000`). */
  readonly exportTimeoutMillis?: number;
}

/** {@link OtlpLogsOptions} resolved; `undefined` in the section means logs do not go over OTLP. */
export interface ResolvedOtlpLogsOptions {
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly level: LogLevel | undefined;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  /** Also the exporter's request timeout when set as an option; else the exporter reads its own variables. */
  readonly exportTimeoutMillis: number;
  readonly requestTimeoutMillis: number | undefined;
}

const OTLP_KEYS = [
  'enabled',
  'endpoint',
  'protocol',
  'headers',
  'level',
  'maxQueueSize',
  'maxExportBatchSize',
  'scheduledDelayMillis',
  'exportTimeoutMillis',
] as const;

const EXPORTER_NAMES = ['otlp', 'console', 'none'];

/** Whether the environment alone asks for logs over OTLP (`OTEL_LOGS_EXPORTER`, `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`). */
function envWantsOtlp(env: NodeJS.ProcessEnv): boolean {
  const raw = env.OTEL_LOGS_EXPORTER?.trim();
  const names = raw ? raw.split(',').map((n) => n.trim().toLowerCase()) : [];
  for (const n of names) if (!EXPORTER_NAMES.includes(n)) envError('OTEL_LOGS_EXPORTER', `a list of ${EXPORTER_NAMES.join(', ')} (console lines are logging.stdout)`, raw ?? '');
  if (names.includes('none')) return false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return names.includes('otlp') || Boolean(env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?.trim());
}

function int(o: Bag, key: string, env: NodeJS.ProcessEnv, variable: string, fallback: number, max?: number): number {
  return readNumber(o, key, 'logging.otlp', envInt(env, variable, 1, max) ?? fallback, { min: 1, integer: true });
}

/** Validate `logging.otlp` (`true`, `false` or {@link OtlpLogsOptions}) and the variables; `undefined` when logs stay off OTLP. */
export function resolveOtlpLogsOptions(value: unknown, env: NodeJS.ProcessEnv): ResolvedOtlpLogsOptions | undefined {
  if (value !== undefined && typeof value !== 'boolean' && (value === null || typeof value !== 'object')) {
    typeError('logging.otlp', 'a boolean or an object', value);
  }
  const o: Bag = typeof value === 'object' ? readSection(value, 'logging.otlp', OTLP_KEYS) : {};
  const fromEnv = envWantsOtlp(env);
  const on = typeof value === 'boolean' ? value : value === undefined ? fromEnv : readBool(o, 'enabled', 'logging.otlp', true);
  if (!on) return undefined;
  checkOtlpHeaderVariables(env, 'LOGS');
  checkOtlpTimeoutVariables(env, 'LOGS');
  const endpoint = readOptionalString(o, 'endpoint', 'logging.otlp');
  const maxQueueSize = int(o, 'maxQueueSize', env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 2048);
  // A batch size from the variable or the default follows a smaller queue; one from the option must fit it.
  const batchVariable = Math.min(envInt(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 1) ?? 512, maxQueueSize);
  const maxExportBatchSize = readNumber(o, 'maxExportBatchSize', 'logging.otlp', batchVariable, { min: 1, integer: true });
  if (maxExportBatchSize > maxQueueSize) rangeError('logging.otlp.maxExportBatchSize', `at most logging.otlp.maxQueueSize (${maxQueueSize})`, maxExportBatchSize);
  const requestTimeoutMillis = o.exportTimeoutMillis === undefined ? undefined : readNumber(o, 'exportTimeoutMillis', 'logging.otlp', 1, { min: 1, integer: true });
  return Object.freeze({
    endpoint: endpoint !== undefined ? checkHttpUrl(endpoint, 'logging.otlp.endpoint', false) : (otlpEnvEndpoint(env, 'LOGS') ?? otlpDefaultEndpoint('LOGS')),
    protocol:
      o.protocol === undefined
        ? (otlpEnvProtocol(env, 'LOGS') ?? DEFAULT_OTLP_PROTOCOL)
        : readEnum(o, 'protocol', 'logging.otlp', OTLP_PROTOCOLS, DEFAULT_OTLP_PROTOCOL),
    headers: readHeaders(o, 'headers', 'logging.otlp'),
    level: o.level === undefined ? undefined : readEnum(o, 'level', 'logging.otlp', LOG_LEVEL_NAMES, 'info'),
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis: int(o, 'scheduledDelayMillis', env, 'OTEL_BLRP_SCHEDULE_DELAY', 1000, MAX_TIMER_MS),
    exportTimeoutMillis: requestTimeoutMillis ?? envInt(env, 'OTEL_BLRP_EXPORT_TIMEOUT', 1, MAX_TIMER_MS) ?? 30_000,
    requestTimeoutMillis,
  });
}
