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
 * (dropping `_total`), so scrapes are serialised one at a time and counter
 * names are restored before each text scrape.
 */
export class Exposition {
  readonly #registry: AnyRegistry;
  readonly #names = new MetricNames();
  #queue: Promise<unknown> = Promise.resolve();

  /** Serialise `registry`, which must be an OpenMetrics registry (for exemplars). */
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
    this.#names.check(reg.getMetricsAsArray(), format === 'text');
    if (format === 'openmetrics') {
      reg.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      return { body: await reg.metrics(), contentType: OPENMETRICS_CONTENT_TYPE };
    }
    reg.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
    try {
      return { body: await reg.metrics(), contentType: TEXT_CONTENT_TYPE };
    } finally {
      reg.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    }
  }
}
