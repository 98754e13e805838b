import type { Context } from '@opentelemetry/api';

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
    return this.#values.get(key);
  }

  setValue(key: symbol, value: unknown): Context {
    const values = new Map(this.#values);
    values.set(key, value);
    return new PrototypeContext(values);
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
