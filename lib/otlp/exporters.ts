/**
 * The OTLP exporters, loaded on first use: only the class of the chosen encoding, and only when
 * something is exported (an instance that exports nothing loads none of them, which keeps
 * `require('express-observability')` and `createObservability()` cheaper).
 */
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpProtocol } from './env';
import type { EncodedSpanExporter } from './encoded-span-processor';
import { encodeTraceRequest, type EncodedSpanBatch } from './span-encoder';

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

/** The OTLP/HTTP JSON span exporter (`http/protobuf` goes through {@link createEncodedSpanExporter}). */
export function createJsonSpanExporter(settings: OtlpExporterSettings): SpanExporter {
  const m = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  return new m.OTLPTraceExporter(config(settings));
}

/**
 * The OTLP/HTTP protobuf span exporter of the encoded-span processor: the OpenTelemetry export
 * delegate (transport, retries, compression, TLS, `OTEL_EXPORTER_OTLP_*`, as in its
 * `OTLPTraceExporter`) with a serialiser that frames spans already encoded ({@link encodeTraceRequest}).
 */
export function createEncodedSpanExporter(settings: OtlpExporterSettings): EncodedSpanExporter {
  const base = require('@opentelemetry/otlp-exporter-base') as typeof import('@opentelemetry/otlp-exporter-base');
  const http = require('@opentelemetry/otlp-exporter-base/node-http') as typeof import('@opentelemetry/otlp-exporter-base/build/src/index-node-http');
  const transformer = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
  const serializer = {
    serializeRequest: (batch: EncodedSpanBatch): Uint8Array => encodeTraceRequest(batch),
    deserializeResponse: (data: Uint8Array) => transformer.ProtobufTraceSerializer.deserializeResponse(data),
  };
  const options = http.convertLegacyHttpOptions(config(settings), 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  const delegate = http.createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', { name: 'span', countItems: (b: EncodedSpanBatch) => b.count }, undefined);
  return new base.OTLPExporterBase<EncodedSpanBatch>(delegate);
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
