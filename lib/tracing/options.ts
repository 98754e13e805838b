import { readBool, readEnum, readNumber, readOptionalString, readSection, readStringRecord, rangeError, type Bag } from '../util/validate';

/** Sampler names of `OTEL_TRACES_SAMPLER` (and of the `tracing.sampler` option). */
export const SAMPLER_NAMES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** A sampler name. */
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** OTLP/HTTP encodings of `OTEL_EXPORTER_OTLP_PROTOCOL` this package exports with (and of the `tracing.protocol` option). */
export const OTLP_PROTOCOLS = ['http/json', 'http/protobuf'] as const;

/** An OTLP/HTTP encoding. */
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Options of the tracer (`tracing` key of `createObservability()`); options win over `OTEL_*` variables. */
export interface TracingOptions {
  /** Trace requests at all. Default: `true` unless `OTEL_SDK_DISABLED=true`. */
  readonly enabled?: boolean;
  /**
   * Full OTLP/HTTP (JSON) traces URL, e.g. `http://collector:4318/v1/traces`. Default:
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else none:
   * nothing leaves the process and finished spans are only kept in the in-memory ring buffer.
   */
  readonly endpoint?: string;
  /**
   * OTLP/HTTP encoding of export requests: `http/json` (`@opentelemetry/exporter-trace-otlp-http`) or
   * `http/protobuf` (`@opentelemetry/exporter-trace-otlp-proto`: 2.4x fewer bytes on the wire; no
   * measurable difference in server CPU here). Default: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else
   * `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/json`. `grpc` is not supported.
   */
  readonly protocol?: OtlpProtocol;
  /**
   * Headers of every export request. Default: `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`
   * (the exporter also adds those variables' headers to the option's; the option wins per header name).
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sampler. Default: `OTEL_TRACES_SAMPLER`, else `parentbased_traceidratio` when `sampleRatio` is set, else `parentbased_always_on`. */
  readonly sampler?: SamplerName;
  /** Ratio (0..1) of the ratio samplers. Default: `OTEL_TRACES_SAMPLER_ARG`, else `1`. */
  readonly sampleRatio?: number;
  /** Upper bound of one export request (and of the batch it carries), ms. Default: `OTEL_BSP_EXPORT_TIMEOUT`, else `10000`. */
  readonly exportTimeoutMillis?: number;
  /** Delay between two batch exports, ms. Default: `OTEL_BSP_SCHEDULE_DELAY`, else `1000`. */
  readonly scheduledDelayMillis?: number;
  /** Finished spans waiting for export; past it spans are dropped and counted. Default: `OTEL_BSP_MAX_QUEUE_SIZE`, else `2048`. */
  readonly maxQueueSize?: number;
  /** Spans per export request (at most `maxQueueSize`). Default: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, else `512`. */
  readonly maxExportBatchSize?: number;
  /** Finished spans kept in memory for `recentTraces()`/`getTrace()`; `0` keeps none. Default `1000`. */
  readonly ringBufferSize?: number;
  /** Also emit the pre-1.23 HTTP attribute names (`http.method`, `http.url`, `http.scheme`, `http.status_code`). Default `false`. */
  readonly legacyAttributes?: boolean;
  /** Register the instance's tracer provider and propagator as the OpenTelemetry globals. Default `false`. */
  readonly registerGlobal?: boolean;
  /**
   * Accept the W3C `baggage` header of incoming requests, so that `inject()` forwards it to downstream
   * services. Default `false`: incoming baggage is dropped (trace context is still continued), because
   * any client can write it and downstream services may trust it; set `true` behind a gateway you trust.
   * Baggage the application sets itself is always propagated.
   */
  readonly incomingBaggage?: boolean;
  /** How long `shutdown()` waits for the last spans to be exported, ms. Default `5000`. */
  readonly shutdownTimeoutMillis?: number;
}

/** Tracing options with every default and environment variable resolved. */
export interface ResolvedTracingOptions {
  readonly enabled: boolean;
  readonly endpoint: string | undefined;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly sampler: SamplerName;
  readonly sampleRatio: number;
  readonly exportTimeoutMillis: number;
  readonly scheduledDelayMillis: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly ringBufferSize: number;
  readonly legacyAttributes: boolean;
  readonly registerGlobal: boolean;
  readonly incomingBaggage: boolean;
  readonly shutdownTimeoutMillis: number;
}

const TRACING_KEYS = [
  'enabled',
  'endpoint',
  'protocol',
  'headers',
  'sampler',
  'sampleRatio',
  'exportTimeoutMillis',
  'scheduledDelayMillis',
  'maxQueueSize',
  'maxExportBatchSize',
  'ringBufferSize',
  'legacyAttributes',
  'registerGlobal',
  'incomingBaggage',
  'shutdownTimeoutMillis',
] as const;

function envError(name: string, expected: string, value: string): never {
  throw new RangeError(`express-observability: environment variable ${name} must be ${expected}, got ${JSON.stringify(value)}`);
}

function checkUrl(url: string, what: string, fromEnv: boolean): string {
  let ok = false;
  try {
    const u = new URL(url);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false; // reported just below, naming the option or variable
  }
  if (!ok) {
    if (fromEnv) envError(what, 'an http(s) URL', url);
    rangeError(what, 'an http(s) URL', url);
  }
  return url;
}

/** Parse `key=value,key2=value2` (values percent-decoded), the format of `OTEL_EXPORTER_OTLP_HEADERS`. */
export function parseHeaderList(raw: string, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const i = pair.indexOf('=');
    if (i <= 0) envError(variable, 'a list of key=value pairs', raw);
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      envError(variable, 'a list of percent-encoded key=value pairs', raw);
    }
  }
  return out;
}

/** The OTLP variable in effect for `setting`: the traces-specific one when it is set, else the generic one. */
function otlpVariable(env: NodeJS.ProcessEnv, setting: 'ENDPOINT' | 'PROTOCOL' | 'HEADERS'): string {
  const specific = `OTEL_EXPORTER_OTLP_TRACES_${setting}`;
  return env[specific]?.trim() ? specific : `OTEL_EXPORTER_OTLP_${setting}`;
}

function envEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const name = otlpVariable(env, 'ENDPOINT');
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const url = checkUrl(raw, name, true);
  // The generic variable is the collector's base URL; the traces path is appended to it.
  return name === 'OTEL_EXPORTER_OTLP_ENDPOINT' ? `${raw.replace(/\/+$/, '')}/v1/traces` : url;
}

function envProtocol(env: NodeJS.ProcessEnv): OtlpProtocol | undefined {
  const name = otlpVariable(env, 'PROTOCOL');
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(raw)) {
    envError(name, `http/protobuf or http/json (${raw === 'grpc' ? 'grpc is not supported: use OTLP/HTTP, port 4318' : 'OTLP/HTTP encodings'})`, raw);
  }
  return raw as OtlpProtocol;
}

function envSampler(env: NodeJS.ProcessEnv): SamplerName | undefined {
  const raw = env.OTEL_TRACES_SAMPLER?.trim();
  if (!raw) return undefined;
  if (!(SAMPLER_NAMES as readonly string[]).includes(raw)) envError('OTEL_TRACES_SAMPLER', `one of ${SAMPLER_NAMES.join(', ')}`, raw);
  return raw as SamplerName;
}

function envRatio(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) envError('OTEL_TRACES_SAMPLER_ARG', 'a number between 0 and 1', raw);
  return n;
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) envError(name, `an integer of at least ${min}`, raw);
  return n;
}

/** Validate the `tracing` section and resolve its defaults (environment read once, here). */
export function resolveTracingOptions(value: unknown, env: NodeJS.ProcessEnv): ResolvedTracingOptions {
  const t: Bag = readSection(value, 'tracing', TRACING_KEYS);
  const sdkDisabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const endpointOption = readOptionalString(t, 'endpoint', 'tracing');
  const endpoint = endpointOption !== undefined ? checkUrl(endpointOption, 'tracing.endpoint', false) : envEndpoint(env);
  const headerVar = otlpVariable(env, 'HEADERS');
  const headers =
    t.headers !== undefined ? readStringRecord(t, 'headers', 'tracing') : Object.freeze(parseHeaderList(env[headerVar] ?? '', headerVar));
  const ratioOption = t.sampleRatio === undefined ? undefined : readNumber(t, 'sampleRatio', 'tracing', 1, { min: 0, max: 1 });
  const samplerOption = t.sampler === undefined ? undefined : readEnum(t, 'sampler', 'tracing', SAMPLER_NAMES, 'parentbased_always_on');
  const sampler = samplerOption ?? (ratioOption !== undefined ? 'parentbased_traceidratio' : (envSampler(env) ?? 'parentbased_always_on'));
  const maxQueueSize = readNumber(t, 'maxQueueSize', 'tracing', envInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1) ?? 2048, { min: 1, integer: true });
  const batchDefault = Math.min(envInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1) ?? 512, maxQueueSize);
  const maxExportBatchSize = readNumber(t, 'maxExportBatchSize', 'tracing', batchDefault, { min: 1, integer: true });
  if (maxExportBatchSize > maxQueueSize) rangeError('tracing.maxExportBatchSize', `at most tracing.maxQueueSize (${maxQueueSize})`, maxExportBatchSize);
  return Object.freeze({
    enabled: readBool(t, 'enabled', 'tracing', !sdkDisabled),
    endpoint,
    protocol: t.protocol === undefined ? (envProtocol(env) ?? 'http/json') : readEnum(t, 'protocol', 'tracing', OTLP_PROTOCOLS, 'http/json'),
    headers,
    sampler,
    sampleRatio: ratioOption ?? envRatio(env) ?? 1,
    exportTimeoutMillis: readNumber(t, 'exportTimeoutMillis', 'tracing', envInt(env, 'OTEL_BSP_EXPORT_TIMEOUT', 1) ?? 10_000, { min: 1, integer: true }),
    scheduledDelayMillis: readNumber(t, 'scheduledDelayMillis', 'tracing', envInt(env, 'OTEL_BSP_SCHEDULE_DELAY', 1) ?? 1000, { min: 1, integer: true }),
    maxQueueSize,
    maxExportBatchSize,
    ringBufferSize: readNumber(t, 'ringBufferSize', 'tracing', 1000, { min: 0, max: 1_000_000, integer: true }),
    legacyAttributes: readBool(t, 'legacyAttributes', 'tracing', false),
    registerGlobal: readBool(t, 'registerGlobal', 'tracing', false),
    incomingBaggage: readBool(t, 'incomingBaggage', 'tracing', false),
    shutdownTimeoutMillis: readNumber(t, 'shutdownTimeoutMillis', 'tracing', 5000, { min: 0, integer: true }),
  });
}
