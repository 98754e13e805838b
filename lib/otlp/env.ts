/**
 * The few OTLP settings the package resolves itself, for traces and logs alike: whether and where to
 * export (the OpenTelemetry exporters would fall back to `http://localhost:4318`; we export nowhere
 * unless told) and which OTLP/HTTP encoding (it picks the exporter class to load). Everything else
 * the exporters and processors read from the environment themselves (headers, timeouts, compression,
 * certificates, `OTEL_BSP_*`, the sampler); variables they would silently ignore when malformed are
 * only checked here, so a typo fails construction naming the variable.
 */
import { MAX_TIMER_MS, rangeError } from '../util/validate';

/** The signal part of the signal-specific OTLP variables (`OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`). */
export type OtlpSignal = 'TRACES' | 'LOGS';

/** OTLP/HTTP encodings of `OTEL_EXPORTER_OTLP_[<SIGNAL>_]PROTOCOL` the package exports with (and of the `protocol` options). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/** An OTLP/HTTP encoding. */
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** The encoding used when neither an option nor a variable names one: the OTLP exporter specification's default. */
export const DEFAULT_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

/** Path appended to `OTEL_EXPORTER_OTLP_ENDPOINT` per signal. */
const SIGNAL_PATH: Record<OtlpSignal, string> = { TRACES: 'v1/traces', LOGS: 'v1/logs' };

/** Throw the RangeError of a malformed environment variable, naming it. */
export function envError(name: string, expected: string, value: string): never {
  throw new RangeError(`express-observability: environment variable ${name} must be ${expected}, got ${JSON.stringify(value)}`);
}

/** `url` if it is an http(s) URL, else a RangeError naming `what` (a variable when `fromEnv`, else an option). */
export function checkHttpUrl(url: string, what: string, fromEnv: boolean): string {
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

/** The OTLP variable in effect for `setting`: the signal-specific one when it is set (not blank), else the generic one. */
export function otlpVariable(env: NodeJS.ProcessEnv, signal: OtlpSignal, setting: 'ENDPOINT' | 'PROTOCOL' | 'HEADERS'): string {
  const specific = `OTEL_EXPORTER_OTLP_${signal}_${setting}`;
  return env[specific]?.trim() ? specific : `OTEL_EXPORTER_OTLP_${setting}`;
}

/**
 * The signal's export URL from the environment, as the exporters resolve it: the signal-specific
 * variable as given, else the generic one (the collector's base URL) + `/v1/traces` or `/v1/logs`;
 * `undefined` when neither is set.
 */
export function otlpEnvEndpoint(env: NodeJS.ProcessEnv, signal: OtlpSignal): string | undefined {
  const name = otlpVariable(env, signal, 'ENDPOINT');
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  checkHttpUrl(raw, name, true);
  return name === 'OTEL_EXPORTER_OTLP_ENDPOINT' ? `${raw.replace(/\/+$/, '')}/${SIGNAL_PATH[signal]}` : raw;
}

/** The URL an exporter falls back to when nothing names one (`OTEL_LOGS_EXPORTER=otlp` alone). */
export function otlpDefaultEndpoint(signal: OtlpSignal): string {
  return `http://localhost:4318/${SIGNAL_PATH[signal]}`;
}

/** The signal's encoding from the environment (signal-specific over generic); `undefined` when neither is set. */
export function otlpEnvProtocol(env: NodeJS.ProcessEnv, signal: OtlpSignal): OtlpProtocol | undefined {
  const name = otlpVariable(env, signal, 'PROTOCOL');
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(raw)) {
    envError(name, `http/protobuf or http/json (${raw === 'grpc' ? 'grpc is not supported: use OTLP/HTTP, port 4318' : 'OTLP/HTTP encodings'})`, raw);
  }
  return raw as OtlpProtocol;
}

/**
 * Check the syntax of `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS`
 * (`key=value,key2=value2`, percent-encoded). The exporter reads and merges them itself (the
 * signal-specific value wins per header name, an option's header over both); it would skip a
 * malformed pair without a word.
 */
export function checkOtlpHeaderVariables(env: NodeJS.ProcessEnv, signal: OtlpSignal): void {
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', `OTEL_EXPORTER_OTLP_${signal}_HEADERS`]) {
    const raw = env[name] ?? '';
    for (const pair of raw.split(',')) {
      if (pair.trim() === '') continue;
      const i = pair.indexOf('=');
      if (i <= 0) envError(name, 'a list of key=value pairs', raw);
      try {
        decodeURIComponent(pair.slice(0, i));
        decodeURIComponent(pair.slice(i + 1));
      } catch {
        envError(name, 'a list of percent-encoded key=value pairs', raw);
      }
    }
  }
}

/** An integer variable of at least `min`, checked (the SDK reads it and would ignore a malformed value); `undefined` when unset. */
export function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) envError(name, max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`, raw);
  return n;
}

/**
 * Check the OTLP exporter's timeout variables for `signal` (`OTEL_EXPORTER_OTLP_TIMEOUT` and its
 * per-signal form), which the exporter would otherwise ignore quietly when malformed.
 */
export function checkOtlpTimeoutVariables(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'LOGS'): void {
  for (const name of ['OTEL_EXPORTER_OTLP_TIMEOUT', `OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`]) envInt(env, name, 1, MAX_TIMER_MS);
}
