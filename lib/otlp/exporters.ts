/**
 * The OTLP exporters, loaded on first use: only the class of the chosen encoding, and only when
 * something is exported (an instance that exports nothing loads none of them, which keeps
 * `require('express-observability')` and `createObservability()` cheaper).
 */
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpProtocol } from './env';

/** What the package hands an exporter; anything left out (headers of the variables, timeout, compression, TLS) the exporter reads from `OTEL_EXPORTER_OTLP_*` itself. */
export interface OtlpExporterSettings {
  /** Full signal URL (`.../v1/traces`, `.../v1/logs`). */
  readonly url: string;
  /** Headers of the options; the exporter adds those of the variables (the option wins per name). */
  readonly headers: Readonly<Record<string, string>>;
  /** Per-request timeout, ms; undefined: `OTEL_EXPORTER_OTLP_[<SIGNAL>_]TIMEOUT`, else 10000. */
  readonly timeoutMillis: number | undefined;
}

function config(s: OtlpExporterSettings): { url: string; headers: Record<string, string>; timeoutMillis?: number } {
  return s.timeoutMillis === undefined ? { url: s.url, headers: { ...s.headers } } : { url: s.url, headers: { ...s.headers }, timeoutMillis: s.timeoutMillis };
}

/* eslint-disable @typescript-eslint/no-require-imports -- deliberate lazy loading, see the module comment */

/** An OTLP/HTTP span exporter for `protocol`. */
export function createSpanExporter(protocol: OtlpProtocol, settings: OtlpExporterSettings): SpanExporter {
  if (protocol === 'http/json') {
    const m = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new m.OTLPTraceExporter(config(settings));
  }
  const m = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  return new m.OTLPTraceExporter(config(settings));
}

/** An OTLP/HTTP log record exporter for `protocol`. */
export function createLogExporter(protocol: OtlpProtocol, settings: OtlpExporterSettings): LogRecordExporter {
  if (protocol === 'http/json') {
    const m = require('@opentelemetry/exporter-logs-otlp-http') as typeof import('@opentelemetry/exporter-logs-otlp-http');
    return new m.OTLPLogExporter(config(settings));
  }
  const m = require('@opentelemetry/exporter-logs-otlp-proto') as typeof import('@opentelemetry/exporter-logs-otlp-proto');
  return new m.OTLPLogExporter(config(settings));
}
