import type { Counter, Gauge, Histogram } from 'prom-client';
import type { MetricsCollector } from './collector';

/** Request-duration buckets of the OpenTelemetry HTTP semantic conventions (seconds). */
export const OTEL_HTTP_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** Body-size buckets (bytes), powers of four from 64 B to 16 MiB. */
export const BODY_SIZE_BUCKETS: readonly number[] = Object.freeze([
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
]);

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** Fold unknown or hostile HTTP methods into `_OTHER` (OpenTelemetry's convention). */
export function normalizeMethod(method: string | undefined): string {
  if (method === undefined) return '_OTHER';
  if (KNOWN_METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

/** Route label value for requests that matched no route. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Route label value for label sets past the cardinality cap. */
export const OVERFLOW_ROUTE = 'other';
/** status_code label value of requests the client aborted before the response finished. */
export const ABORTED_STATUS = 'aborted';

/** The label set of one duration series. */
type Labels = Readonly<{ method: string; route: string; status_code: string }>;

/** Settings of the HTTP metrics. */
export interface HttpMetricsSettings {
  readonly buckets: readonly number[];
  readonly bodySizes: boolean;
  readonly maxLabelSets: number;
  readonly exemplars: boolean;
}

/**
 * The per-request HTTP metrics: duration histogram, in-flight gauge, optional
 * body sizes, aborted counter, and the cardinality guard that folds label sets
 * past the cap into `route="other"` (counted in `observability_label_overflow_total`).
 */
export class HttpMetrics {
  /** `http_server_request_duration_seconds{method,route,status_code}`. */
  readonly duration: Histogram<string>;
  /** `http_server_active_requests`. */
  readonly active: Gauge<string>;
  readonly #aborted: Counter<string>;
  readonly #overflow: Counter<string>;
  readonly #requestSize: Histogram<string> | undefined;
  readonly #responseSize: Histogram<string> | undefined;
  /**
   * Admitted label sets as method -> status -> route -> the frozen labels object, reused for every
   * observation of that set (no per-request key string or labels object).
   */
  readonly #seen = new Map<string, Map<string, Map<string, Labels>>>();
  #seenCount = 0;
  readonly #max: number;
  readonly #exemplars: boolean;

  /** Register the HTTP metrics on `collector`. */
  constructor(collector: MetricsCollector, settings: HttpMetricsSettings) {
    this.#max = settings.maxLabelSets;
    this.#exemplars = settings.exemplars;
    this.duration = collector.histogram(
      'http_server_request_duration_seconds',
      'Duration of HTTP server requests, by route template.',
      ['method', 'route', 'status_code'],
      settings.buckets,
      { exemplars: settings.exemplars },
    );
    this.active = collector.gauge('http_server_active_requests', 'Number of HTTP server requests in flight.');
    this.#aborted = collector.counter(
      'http_server_aborted_requests_total',
      'HTTP server requests whose connection closed before the response finished.',
      ['method', 'route'],
    );
    this.#overflow = collector.counter(
      'observability_label_overflow_total',
      'Observations whose label set exceeded the cardinality cap and were folded into route="other".',
      ['metric'],
    );
    if (settings.bodySizes) {
      this.#requestSize = collector.histogram(
        'http_server_request_body_size_bytes',
        'Size of HTTP server request bodies (Content-Length).',
        ['method', 'route'],
        BODY_SIZE_BUCKETS,
      );
      this.#responseSize = collector.histogram(
        'http_server_response_body_size_bytes',
        'Size of HTTP server response bodies (Content-Length).',
        ['method', 'route', 'status_code'],
        BODY_SIZE_BUCKETS,
      );
    }
  }

  /** True when body-size histograms are recorded. */
  get recordsSizes(): boolean {
    return this.#requestSize !== undefined;
  }

  /** Apply the cardinality cap; returns the labels object (route possibly folded to `other`). */
  admit(method: string, route: string, status: string): Labels {
    let byStatus = this.#seen.get(method);
    if (!byStatus) {
      byStatus = new Map();
      this.#seen.set(method, byStatus);
    }
    let routes = byStatus.get(status);
    if (!routes) {
      routes = new Map();
      byStatus.set(status, routes);
    }
    const known = routes.get(route);
    if (known) return known;
    if (this.#seenCount >= this.#max && route !== OVERFLOW_ROUTE && route !== UNMATCHED_ROUTE) {
      this.#overflow.inc({ metric: 'http_server_request_duration_seconds' });
      let folded = routes.get(OVERFLOW_ROUTE);
      if (!folded) {
        folded = Object.freeze({ method, route: OVERFLOW_ROUTE, status_code: status });
        routes.set(OVERFLOW_ROUTE, folded);
        this.#seenCount++;
      }
      return folded;
    }
    const labels = Object.freeze({ method, route, status_code: status });
    routes.set(route, labels);
    this.#seenCount++;
    return labels;
  }

  /** Record one finished request's duration; returns the route label used (after the cap). */
  record(method: string, route: string, status: string, seconds: number, traceId: string | undefined): string {
    const labels = this.admit(method, route, status);
    if (this.#exemplars) {
      this.duration.observe(traceId ? { labels, value: seconds, exemplarLabels: { trace_id: traceId } } : { labels, value: seconds });
    } else {
      this.duration.observe(labels, seconds);
    }
    return labels.route;
  }

  /** Count an aborted request. */
  recordAborted(method: string, route: string): void {
    this.#aborted.inc({ method, route });
  }

  /** Record body sizes (only when `metrics.bodySizes` is on). */
  recordSizes(method: string, route: string, status: string, requestBytes: number | undefined, responseBytes: number | undefined): void {
    if (this.#requestSize && requestBytes !== undefined) this.#requestSize.observe({ method, route }, requestBytes);
    if (this.#responseSize && responseBytes !== undefined) {
      this.#responseSize.observe({ method, route, status_code: status }, responseBytes);
    }
  }
}
