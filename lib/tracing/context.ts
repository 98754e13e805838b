import { trace, type Context, type Span } from '@opentelemetry/api';

/** The API's key for the active span (`createContextKey` is `Symbol.for`, shared by every copy of the API). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/**
 * Where a request's contexts keep its SERVER span: the span until it ends, then a non-recording span
 * with the same {@link SpanContext}. Node keeps the context that was active when a timer or socket
 * callback was created (keep-alive timers, the `Date` header cache) for as long as that lives, so
 * without this every connection would keep its last request's whole span alive.
 */
class SpanHolder {
  constructor(public span: Span) {}
}

/**
 * An immutable OpenTelemetry {@link Context} with the semantics of the API's own (`ROOT_CONTEXT` and
 * what `setValue`/`deleteValue` derive from it: a copied map per change), but with its methods on
 * the prototype. The API's implementation creates three closures per context; one such context per
 * request made V8's young-generation collector keep and promote request graphs, so that the young
 * generation of a traced server grew to its maximum under load (docs/performance.md, "Garbage,
 * memory and start-up"). Requests' span contexts derive from {@link REQUEST_ROOT_CONTEXT}.
 */
class PrototypeContext implements Context {
  readonly #values: ReadonlyMap<symbol, unknown>;

  constructor(values: ReadonlyMap<symbol, unknown>) {
    this.#values = values;
  }

  getValue(key: symbol): unknown {
    const value = this.#values.get(key);
    return value instanceof SpanHolder ? value.span : value;
  }

  setValue(key: symbol, value: unknown): Context {
    const values = new Map(this.#values);
    values.set(key, value);
    return new PrototypeContext(values);
  }

  /** See {@link releaseSpan}. */
  releaseSpan(): void {
    const holder = this.#values.get(SPAN_KEY);
    if (holder instanceof SpanHolder) holder.span = trace.wrapSpanContext(holder.span.spanContext());
  }

  deleteValue(key: symbol): Context {
    if (!this.#values.has(key)) return this;
    const values = new Map(this.#values);
    values.delete(key);
    return new PrototypeContext(values);
  }
}

/** The empty context the package derives each request's context from (`trace.setSpan`, propagation). */
export const REQUEST_ROOT_CONTEXT: Context = new PrototypeContext(new Map());

/**
 * `parent` with `span` as its active span. Call {@link releaseSpan} on the result once the span has
 * ended. A parent that is not one of the package's contexts gets `trace.setSpan`.
 */
export function contextWithSpan(parent: Context, span: Span): Context {
  return parent instanceof PrototypeContext ? parent.setValue(SPAN_KEY, new SpanHolder(span)) : trace.setSpan(parent, span);
}

/**
 * From now on, `context` (made by {@link contextWithSpan}) and every context derived from it return
 * a non-recording span with the same trace and span ids instead of their span, which has ended:
 * it then no longer lives as long as any timer or socket callback created under it.
 */
export function releaseSpan(context: Context): void {
  if (context instanceof PrototypeContext) context.releaseSpan();
}
