import { Registry } from './prom-client';
import { MetricNames } from './prom-client-adapter';
import type { AnyRegistry } from './registry';

/** Content type of the Prometheus text format 0.0.4. */
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Which exposition format a scraper's `Accept` header asks for. */
export function negotiate(accept: string | undefined): 'openmetrics' | 'text' {
  if (!accept) return 'text';
  let best: 'openmetrics' | 'text' = 'text';
  let bestQ = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    const media = (type ?? '').trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number(v) || 0;
    }
    const kind = media === 'application/openmetrics-text' ? 'openmetrics' : media === 'text/plain' || media === '*/*' ? 'text' : undefined;
    if (kind && q > bestQ) {
      best = kind;
      bestQ = q;
    }
  }
  return best;
}

/**
 * Serialises one registry in either format. prom-client fixes the format per
 * registry and, when writing OpenMetrics, rewrites counter names in place
 * (dropping `_total`), so scrapes are serialised one at a time, counter
 * names are restored before each text scrape, and the registry's own format
 * (and names, for a text registry) after each scrape.
 */
export class Exposition {
  readonly #registry: AnyRegistry;
  readonly #names = new MetricNames();
  #queue: Promise<unknown> = Promise.resolve();

  /** Serialise `registry` (exemplars need an OpenMetrics one, as the package's own is). */
  constructor(registry: AnyRegistry) {
    this.#registry = registry;
  }

  /** The exposition body and its content type. */
  render(format: 'openmetrics' | 'text'): Promise<{ body: string; contentType: string }> {
    const run = this.#queue.then(() => this.#render(format));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #render(format: 'openmetrics' | 'text'): Promise<{ body: string; contentType: string }> {
    const reg = this.#registry;
    // The registry's own format is put back after each scrape: a registry the application passed keeps
    // writing what it wrote before (its own endpoint, its counters' `_total`).
    const own = reg.contentType;
    const openMetrics = format === 'openmetrics';
    this.#names.check(reg.getMetricsAsArray(), !openMetrics);
    reg.setContentType(openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
    try {
      return { body: await reg.metrics(), contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE };
    } finally {
      reg.setContentType(own);
      if (openMetrics && own !== Registry.OPENMETRICS_CONTENT_TYPE) this.#names.check(reg.getMetricsAsArray(), true);
    }
  }
}
