import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** Trace and span id of a span, as lowercase hex (W3C trace-context form), and its trace flags. */
export interface SpanIds {
  readonly traceId: string;
  readonly spanId: string;
  /** W3C trace flags (bit 0: sampled). */
  readonly traceFlags: number;
}

/**
 * Ids of the span active in the current async context (the request's SERVER span, or a
 * `withSpan()` child of it), or `undefined` outside any valid span. Reads the global
 * OpenTelemetry context manager, which the tracing subsystem registers when none is.
 */
export function activeSpanIds(): SpanIds | undefined {
  const sc = trace.getSpanContext(context.active());
  if (sc === undefined || !isSpanContextValid(sc)) return undefined;
  return { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags };
}
