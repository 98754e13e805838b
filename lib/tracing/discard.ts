import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Span processors behind a filter: spans in `discarded` end without reaching them (not exported, not
 * kept in the ring). The spans of requests the observability router answered itself go there: they
 * were started when the request entered the middleware, before anyone knew the router would answer it.
 */
export class DiscardFilter implements SpanProcessor {
  /** Forward to `inner` every span not in `discarded`. */
  constructor(
    readonly inner: readonly SpanProcessor[],
    readonly discarded: WeakSet<object>,
  ) {}
  /** Delegates. */
  onStart(span: Span, parentContext: Context): void {
    for (const p of this.inner) p.onStart(span, parentContext);
  }
  /** Delegates, unless the span was discarded. */
  onEnd(span: ReadableSpan): void {
    if (this.discarded.has(span)) return;
    for (const p of this.inner) p.onEnd(span);
  }
  /** Delegates. */
  async forceFlush(): Promise<void> {
    await Promise.all(this.inner.map((p) => p.forceFlush()));
  }
  /** Delegates. */
  async shutdown(): Promise<void> {
    await Promise.all(this.inner.map((p) => p.shutdown()));
  }
}
