import {
  checkHttpUrl,
  checkOtlpHeaderVariables,
  checkOtlpTimeoutVariables,
  DEFAULT_OTLP_PROTOCOL,
  envError,
  envInt,
  OTLP_PROTOCOLS,
  otlpEnvEndpoint,
  otlpEnvProtocol,
  type OtlpProtocol,
} from '../otlp/env';
import { MAX_TIMER_MS, readBool, readEnum, readNumber, readOptionalString, readSection, readHeaders, rangeError, type Bag } from '../util/validate';

export { OTLP_PROTOCOLS, type OtlpProtocol } from '../otlp/env';

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

/**
 * Options of the tracer (`tracing` key of `createObservability()`); options win over `OTEL_*` variables.
 * Where a default says "the SDK's", the OpenTelemetry SDK or exporter reads the variable itself.
 */
export interface TracingOptions {
  /** Trace requests at all. Default: `true` unless `OTEL_SDK_DISABLED=true`. */
  readonly enabled?: boolean;
  /**
   * Full OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. Default:
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else none:
   * nothing leaves the process and finished spans are only kept in the in-memory ring buffer.
   */
  readonly endpoint?: string;
  /**
   * OTLP/HTTP encoding of export requests: `http/protobuf` (spans encoded as they end, sent by the
   * OpenTelemetry OTLP/HTTP export delegate; 2.4x fewer bytes than JSON) or `http/json`
   * (`@opentelemetry/exporter-trace-otlp-http` behind the SDK's batch processor). Default:
   * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`
   * (the OTLP exporter specification's default). `grpc` is not supported.
   */
  readonly protocol?: OtlpProtocol;
  /**
   * Headers of every export request. Default `{}`; the exporter adds those of `OTEL_EXPORTER_OTLP_HEADERS`
   * and `OTEL_EXPORTER_OTLP_TRACES_HEADERS` (the traces one wins per header name, this option over both).
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Sampler. Default: `parentbased_traceidratio` when `sampleRatio` is set, else the SDK's:
   * `OTEL_TRACES_SAMPLER` (with `OTEL_TRACES_SAMPLER_ARG`), else `parentbased_always_on`.
   */
  readonly sampler?: SamplerName;
  /** Ratio (0..1) of the ratio samplers. Default: `OTEL_TRACES_SAMPLER_ARG`, else `1`. */
  readonly sampleRatio?: number;
  /**
   * Upper bound of one export, ms (the exporter's request timeout and the batch processor's). Default: the SDK's:
   * `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT` (else 10000) for the request,
   * `OTEL_BSP_EXPORT_TIMEOUT` (else 30000) for the processor.
   */
  readonly exportTimeoutMillis?: number;
  /** Longest wait of a partial batch, ms (a full batch leaves at once). Default: the SDK's, `OTEL_BSP_SCHEDULE_DELAY`, else `5000`. */
  readonly scheduledDelayMillis?: number;
  /** Finished spans waiting for export; past it spans are dropped and counted. Default: the SDK's, `OTEL_BSP_MAX_QUEUE_SIZE`, else `2048`. */
  readonly maxQueueSize?: number;
  /** Spans per export request (at most `maxQueueSize`). Default: the SDK's, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, else `512`. */
  readonly maxExportBatchSize?: number;
  /**
   * Finished spans kept in memory for the dashboard's trace viewer and `recentTraces()`/`getTrace()`;
   * `0` keeps none. Default `1000` when the dashboard is enabled, else `0` (nothing would read them).
   */
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

/**
 * Tracing options resolved: what the package decides itself. `undefined` in a setting the SDK reads
 * (sampler, timeouts, batch sizes) means "the SDK's own value, from its `OTEL_*` variable or default".
 */
export interface ResolvedTracingOptions {
  readonly enabled: boolean;
  /** Where spans go (the option, else the OTLP variables); `undefined`: nowhere. */
  readonly endpoint: string | undefined;
  readonly protocol: OtlpProtocol;
  /** The option's headers (the exporter adds those of the variables itself). */
  readonly headers: Readonly<Record<string, string>>;
  readonly sampler: SamplerName | undefined;
  readonly sampleRatio: number | undefined;
  readonly exportTimeoutMillis: number | undefined;
  readonly scheduledDelayMillis: number | undefined;
  readonly maxQueueSize: number | undefined;
  readonly maxExportBatchSize: number | undefined;
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

/** `OTEL_TRACES_SAMPLER_ARG` as a number in 0..1; `undefined` when unset. */
function envRatio(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) envError('OTEL_TRACES_SAMPLER_ARG', 'a number between 0 and 1', raw);
  return n;
}

/** Check the variables the SDK reads for traces and would ignore quietly when malformed. */
function checkSdkVariables(env: NodeJS.ProcessEnv): void {
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  if (sampler && !(SAMPLER_NAMES as readonly string[]).includes(sampler)) envError('OTEL_TRACES_SAMPLER', `one of ${SAMPLER_NAMES.join(', ')}`, sampler);
  envRatio(env);
  for (const name of ['OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE']) envInt(env, name, 1);
  for (const name of ['OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_BSP_SCHEDULE_DELAY']) envInt(env, name, 1, MAX_TIMER_MS);
  checkOtlpHeaderVariables(env, 'TRACES');
  checkOtlpTimeoutVariables(env, 'TRACES');
}

function optionalInt(t: Bag, key: string): number | undefined {
  return t[key] === undefined ? undefined : readNumber(t, key, 'tracing', 1, { min: 1, integer: true });
}

/**
 * Validate the `tracing` section and resolve what the package decides (environment read once, here).
 * `dashboard`: whether the instance has a dashboard, the ring's only reader besides the API (`ringBufferSize`
 * defaults to 1000 spans with one, to none without).
 */
export function resolveTracingOptions(value: unknown, env: NodeJS.ProcessEnv, dashboard: boolean): ResolvedTracingOptions {
  const t: Bag = readSection(value, 'tracing', TRACING_KEYS);
  checkSdkVariables(env);
  const sdkDisabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const endpointOption = readOptionalString(t, 'endpoint', 'tracing');
  const ratioOption = t.sampleRatio === undefined ? undefined : readNumber(t, 'sampleRatio', 'tracing', 1, { min: 0, max: 1 });
  const samplerOption = t.sampler === undefined ? undefined : readEnum(t, 'sampler', 'tracing', SAMPLER_NAMES, 'parentbased_always_on');
  // A sampler chosen in code is built here (its ratio may still come from OTEL_TRACES_SAMPLER_ARG); else the SDK builds it from the variables.
  const ownSampler = samplerOption !== undefined || ratioOption !== undefined;
  const maxQueueSize = optionalInt(t, 'maxQueueSize');
  const maxExportBatchSize = optionalInt(t, 'maxExportBatchSize');
  // The queue the batch must fit: the option, else the variable (checked above), else the SDK's default.
  const queueSize = maxQueueSize ?? envInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1) ?? 2048;
  if (maxExportBatchSize !== undefined && maxExportBatchSize > queueSize) {
    rangeError('tracing.maxExportBatchSize', `at most tracing.maxQueueSize (${queueSize})`, maxExportBatchSize);
  }
  return Object.freeze({
    enabled: readBool(t, 'enabled', 'tracing', !sdkDisabled),
    endpoint: endpointOption !== undefined ? checkHttpUrl(endpointOption, 'tracing.endpoint', false) : otlpEnvEndpoint(env, 'TRACES'),
    protocol:
      t.protocol === undefined
        ? (otlpEnvProtocol(env, 'TRACES') ?? DEFAULT_OTLP_PROTOCOL)
        : readEnum(t, 'protocol', 'tracing', OTLP_PROTOCOLS, DEFAULT_OTLP_PROTOCOL),
    headers: readHeaders(t, 'headers', 'tracing'),
    sampler: ownSampler ? (samplerOption ?? 'parentbased_traceidratio') : undefined,
    sampleRatio: ownSampler ? (ratioOption ?? envRatio(env) ?? 1) : undefined,
    exportTimeoutMillis: optionalInt(t, 'exportTimeoutMillis'),
    scheduledDelayMillis: optionalInt(t, 'scheduledDelayMillis'),
    maxQueueSize,
    maxExportBatchSize,
    ringBufferSize: readNumber(t, 'ringBufferSize', 'tracing', dashboard ? 1000 : 0, { min: 0, max: 1_000_000, integer: true }),
    legacyAttributes: readBool(t, 'legacyAttributes', 'tracing', false),
    registerGlobal: readBool(t, 'registerGlobal', 'tracing', false),
    incomingBaggage: readBool(t, 'incomingBaggage', 'tracing', false),
    shutdownTimeoutMillis: readNumber(t, 'shutdownTimeoutMillis', 'tracing', 5000, { min: 0, integer: true }),
  });
}
