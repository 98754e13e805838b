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

/** The value of an entry that `deleteValue` added: the key is absent from there down. */
const DELETED: unique symbol = Symbol('deleted');

/** Derived contexts past this depth are flattened into one map, so that a lookup stays short. */
const MAX_DEPTH = 16;

/**
 * An immutable OpenTelemetry {@link Context} with the semantics of the API's own (`ROOT_CONTEXT` and
 * what `setValue`/`deleteValue` derive from it), with its methods on the prototype and one small
 * object per derived context: its parent and the one entry it adds. The API's implementation creates
 * three closures and copies a map per context; one such context per request made V8's
 * young-generation collector keep and promote request graphs, so that the young generation of a
 * traced server grew to its maximum under load (docs/performance.md, "Garbage, memory and
 * start-up"). Requests' span contexts derive from {@link REQUEST_ROOT_CONTEXT}.
 */
class PrototypeContext implements Context {
  readonly #parent: PrototypeContext | undefined;
  readonly #key: symbol | undefined;
  readonly #value: unknown;
  /** Every entry of this context, when it is a flattened one (the root: none). */
  readonly #flat: ReadonlyMap<symbol, unknown> | undefined;
  readonly #depth: number;

  constructor(parent: PrototypeContext | undefined, key: symbol | undefined, value: unknown, flat?: ReadonlyMap<symbol, unknown>) {
    this.#parent = parent;
    this.#key = key;
    this.#value = value;
    this.#flat = flat;
    this.#depth = parent === undefined ? 0 : parent.#depth + 1;
  }

  /** The stored value of `key` (a {@link SpanHolder}, {@link DELETED} or undefined when absent). */
  #stored(key: symbol): unknown {
    if (this.#flat !== undefined) return this.#flat.get(key);
    if (this.#key === key) return this.#value;
    const parent = this.#parent;
    return parent === undefined ? undefined : parent.#stored(key);
  }

  getValue(key: symbol): unknown {
    const value = this.#stored(key);
    if (value instanceof SpanHolder) return value.span;
    return value === DELETED ? undefined : value;
  }

  setValue(key: symbol, value: unknown): Context {
    return this.#derive(key, value);
  }

  deleteValue(key: symbol): Context {
    const value = this.#stored(key);
    return value === undefined || value === DELETED ? this : this.#derive(key, DELETED);
  }

  /** See {@link releaseSpan}. */
  releaseSpan(): void {
    const holder = this.#stored(SPAN_KEY);
    if (holder instanceof SpanHolder) holder.span = trace.wrapSpanContext(holder.span.spanContext());
  }

  #derive(key: symbol, value: unknown): PrototypeContext {
    if (this.#depth < MAX_DEPTH) return new PrototypeContext(this, key, value);
    const flat = new Map<symbol, unknown>();
    PrototypeContext.#flatten(this, flat);
    flat.set(key, value);
    for (const [k, v] of flat) if (v === DELETED) flat.delete(k);
    return new PrototypeContext(undefined, undefined, undefined, flat);
  }

  /** Every entry of `c` into `into`, oldest first so that nearer entries win. */
  static #flatten(c: PrototypeContext, into: Map<symbol, unknown>): void {
    if (c.#flat !== undefined) {
      for (const [k, v] of c.#flat) into.set(k, v);
      return;
    }
    if (c.#parent !== undefined) PrototypeContext.#flatten(c.#parent, into);
    into.set(c.#key as symbol, c.#value);
  }
}

/** The empty context the package derives each request's context from (`trace.setSpan`, propagation). */
export const REQUEST_ROOT_CONTEXT: Context = new PrototypeContext(undefined, undefined, undefined, new Map());

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
