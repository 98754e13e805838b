import { Counter, Gauge, Histogram } from './prom-client';
import type { AnyRegistry } from './registry';

/** Label values accepted by the collector. */
export type LabelValues = Readonly<Record<string, string | number>>;

/** The three metric kinds the collector creates. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throw unless `name` is a valid Prometheus metric name. */
export function assertMetricName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw new TypeError(`express-observability: invalid metric name ${JSON.stringify(name)}: must match ${METRIC_NAME}`);
  }
}

/** Throw unless every label name is valid, unique and not reserved. */
export function assertLabelNames(metric: string, labelNames: unknown): asserts labelNames is readonly string[] {
  if (!Array.isArray(labelNames)) {
    throw new TypeError(`express-observability: labelNames of metric "${metric}" must be an array of strings`);
  }
  const seen = new Set<string>();
  for (const l of labelNames) {
    if (typeof l !== 'string' || !LABEL_NAME.test(l) || l.startsWith('__')) {
      throw new TypeError(
        `express-observability: invalid label name ${JSON.stringify(l)} on metric "${metric}": must match ${LABEL_NAME} and not start with "__"`,
      );
    }
    if (seen.has(l)) throw new TypeError(`express-observability: label "${l}" appears twice on metric "${metric}"`);
    seen.add(l);
  }
}

interface Entry {
  readonly kind: MetricKind;
  /** Histograms only: exemplars on. */
  readonly exemplars: boolean;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
  readonly metric: Counter<string> | Gauge<string> | Histogram<string>;
}

/** Options of a histogram created through {@link MetricsCollector.histogram}. */
export interface HistogramExtras {
  /** Attach exemplars (trace ids) to buckets; needs an OpenMetrics registry. */
  readonly exemplars?: boolean;
}

/** Options of a gauge created through {@link MetricsCollector.gauge}. */
export interface GaugeExtras {
  /**
   * prom-client's `collect` option: called before every read of the gauge (a scrape), to set its
   * value then. Only for a new gauge: asking again for an existing one with `collect` throws.
   * Default: none.
   */
  readonly collect?: (this: Gauge<string>) => void;
}

/**
 * A typed, idempotent layer over prom-client's own Counter, Gauge and Histogram,
 * all registered on one instance's {@link Registry} (never prom-client's global one).
 * Asking twice for the same definition returns the same metric; asking for the
 * same name with another kind, other labels or other buckets throws.
 */
export class MetricsCollector {
  /** The registry every metric of this collector lives on. */
  readonly registry: AnyRegistry;
  readonly #entries = new Map<string, Entry>();

  /** Create a collector over `registry`. */
  constructor(registry: AnyRegistry) {
    this.registry = registry;
  }

  /** Get or create a counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter<string> {
    return this.#define('counter', name, help, labelNames, undefined, {}) as Counter<string>;
  }

  /** Get or create a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = [], extras: GaugeExtras = {}): Gauge<string> {
    if (extras.collect !== undefined && this.#entries.has(name)) {
      throw new TypeError(`express-observability: gauge "${name}" already exists; its collect function cannot be replaced`);
    }
    return this.#define('gauge', name, help, labelNames, undefined, extras) as Gauge<string>;
  }

  /** Get or create a histogram (prom-client's default buckets when `buckets` is omitted). */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets?: readonly number[],
    extras: HistogramExtras = {},
  ): Histogram<string> {
    return this.#define('histogram', name, help, labelNames, buckets, extras) as Histogram<string>;
  }

  /** Increment a counter created earlier. */
  inc(name: string, labels: LabelValues = {}, value = 1): void {
    const e = this.#get(name, 'counter');
    (e.metric as Counter<string>).inc(labels, value);
  }

  /** Set a gauge created earlier. */
  set(name: string, labels: LabelValues, value: number): void {
    const e = this.#get(name, 'gauge');
    (e.metric as Gauge<string>).set(labels, value);
  }

  /** Observe a value on a histogram created earlier. */
  observe(name: string, labels: LabelValues, value: number): void {
    const e = this.#get(name, 'histogram');
    const h = e.metric as Histogram<string>;
    if (e.exemplars) {
      h.observe({ labels, value });
    } else {
      h.observe(labels, value);
    }
  }

  /** The metric registered under `name`, if any. */
  get(name: string): Counter<string> | Gauge<string> | Histogram<string> | undefined {
    return this.#entries.get(name)?.metric;
  }

  #get(name: string, kind: MetricKind): Entry {
    const e = this.#entries.get(name);
    if (!e) throw new Error(`express-observability: no ${kind} named "${name}"; create it with metrics.${kind}() first`);
    if (e.kind !== kind) throw new TypeError(`express-observability: metric "${name}" is a ${e.kind}, not a ${kind}`);
    return e;
  }

  #define(
    kind: MetricKind,
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[] | undefined,
    extras: HistogramExtras & GaugeExtras,
  ): Entry['metric'] {
    assertMetricName(name);
    if (typeof help !== 'string' || help.length === 0) {
      throw new TypeError(`express-observability: metric "${name}" needs a non-empty help string`);
    }
    assertLabelNames(name, labelNames);
    if (kind === 'histogram') {
      if (labelNames.includes('le')) throw new TypeError(`express-observability: "le" is reserved on histogram "${name}"`);
      if (buckets !== undefined) assertBuckets(name, buckets);
    }
    const existing = this.#entries.get(name);
    if (existing) {
      if (existing.kind !== kind) {
        throw new TypeError(`express-observability: metric "${name}" already exists as a ${existing.kind}, cannot redefine it as a ${kind}`);
      }
      if (!sameList(existing.labelNames, labelNames)) {
        throw new TypeError(
          `express-observability: metric "${name}" already exists with labels [${existing.labelNames.join(', ')}], not [${labelNames.join(', ')}]`,
        );
      }
      if (kind === 'histogram' && buckets !== undefined && existing.buckets !== undefined && !sameList(existing.buckets, buckets)) {
        throw new TypeError(`express-observability: histogram "${name}" already exists with other buckets`);
      }
      return existing.metric;
    }
    if (this.registry.getSingleMetric(name)) {
      throw new TypeError(`express-observability: a metric named "${name}" is already registered on this registry outside the collector`);
    }
    // prom-client's typings split registries by content type; at runtime any registry works.
    const config = { name, help, labelNames: [...labelNames], registers: [this.registry as never] };
    let metric: Entry['metric'];
    if (kind === 'counter') metric = new Counter(config);
    else if (kind === 'gauge') metric = new Gauge(extras.collect ? { ...config, collect: extras.collect } : config);
    else {
      metric = new Histogram({
        ...config,
        ...(buckets ? { buckets: [...buckets] } : {}),
        ...(extras.exemplars ? { enableExemplars: true } : {}),
      });
    }
    this.#entries.set(name, { kind, exemplars: kind === 'histogram' && extras.exemplars === true, labelNames: [...labelNames], ...(buckets ? { buckets: [...buckets] } : {}), metric });
    return metric;
  }
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Throw unless `buckets` is a strictly increasing list of finite, non-negative numbers. */
export function assertBuckets(owner: string, buckets: unknown): asserts buckets is readonly number[] {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new TypeError(`express-observability: buckets of "${owner}" must be a non-empty array of numbers`);
  }
  buckets.forEach((b: unknown, i: number) => {
    if (typeof b !== 'number' || !Number.isFinite(b)) {
      throw new TypeError(`express-observability: bucket [${i}] of "${owner}" must be a finite number, got ${String(b)}`);
    }
    if (b < 0) throw new RangeError(`express-observability: bucket [${i}] of "${owner}" must not be negative, got ${b}`);
    if (i > 0 && b <= (buckets[i - 1] as number)) {
      throw new RangeError(`express-observability: buckets of "${owner}" must increase strictly (bucket [${i}] = ${b})`);
    }
  });
}
