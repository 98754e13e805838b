/**
 * The prom-client classes the package uses, each loaded from its own file. prom-client's index also
 * loads its Pushgateway (`node:https`, `node:tls`) and its AggregatorRegistry (`node:cluster`, with
 * `node:child_process` and `node:dgram`): ~3 MB of start-up memory for parts the package uses only in
 * a cluster (docs/performance.md, "Start-up"). They are prom-client's own classes, the very objects its
 * index exports, so a registry the application makes with `require('prom-client')` passes `instanceof`.
 * A release that moves the files falls back to the index.
 */
import type * as PromClient from 'prom-client';

interface Classes {
  Registry: typeof PromClient.Registry;
  Counter: typeof PromClient.Counter;
  Gauge: typeof PromClient.Gauge;
  Histogram: typeof PromClient.Histogram;
  collectDefaultMetrics: typeof PromClient.collectDefaultMetrics;
}

function load(): Classes {
  /* eslint-disable @typescript-eslint/no-require-imports -- each class from its own file (start-up cost) */
  try {
    const classes: Classes = {
      Registry: require('prom-client/lib/registry') as typeof PromClient.Registry,
      Counter: require('prom-client/lib/counter') as typeof PromClient.Counter,
      Gauge: require('prom-client/lib/gauge') as typeof PromClient.Gauge,
      Histogram: require('prom-client/lib/histogram') as typeof PromClient.Histogram,
      collectDefaultMetrics: require('prom-client/lib/defaultMetrics') as typeof PromClient.collectDefaultMetrics,
    };
    if (Object.values(classes).every((c) => typeof c === 'function')) return classes;
  } catch {
    // a release that moved them: the index below
  }
  return require('prom-client') as typeof PromClient;
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** prom-client's `AggregatorRegistry`, loaded when a cluster primary first aggregates. */
export function aggregatorRegistry(): typeof PromClient.AggregatorRegistry {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded in a cluster primary only */
  try {
    const c = require('prom-client/lib/cluster') as typeof PromClient.AggregatorRegistry;
    if (typeof c === 'function' && typeof c.aggregate === 'function') return c;
  } catch {
    // a release that moved it: the index below
  }
  return (require('prom-client') as typeof PromClient).AggregatorRegistry;
  /* eslint-enable @typescript-eslint/no-require-imports */
}

const classes = load();
/** prom-client's `Registry`. */
export const Registry = classes.Registry;
/** prom-client's `Registry`. */
export type Registry<T extends PromClient.RegistryContentType = PromClient.PrometheusContentType> = PromClient.Registry<T>;
/** prom-client's `Counter`. */
export const Counter = classes.Counter;
/** prom-client's `Counter`. */
export type Counter<T extends string = string> = PromClient.Counter<T>;
/** prom-client's `Gauge`. */
export const Gauge = classes.Gauge;
/** prom-client's `Gauge`. */
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
/** prom-client's `Histogram`. */
export const Histogram = classes.Histogram;
/** prom-client's `Histogram`. */
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
/** prom-client's `collectDefaultMetrics`. */
export const collectDefaultMetrics = classes.collectDefaultMetrics;
