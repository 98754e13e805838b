import type { Counter, Gauge, Histogram } from 'prom-client';
import { performance } from 'node:perf_hooks';
import { bucketIndex } from './histogram-math';
import { bindHistogramSeries, PROM_CLIENT, type HistogramSeries, type PromClientSupport } from './prom-client-adapter';
import type { MetricsCollector } from './collector';
import { innerMap } from '../util/maps';

/** Name of the request-duration histogram (read by the dashboard and the alert rules). */
export const DURATION_METRIC = 'http_server_request_duration_seconds';

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

/** An admitted label set: its frozen labels object, its bound duration series and, per bucket, when it last got an exemplar. */
interface Admitted {
  readonly labels: Labels;
  readonly series: HistogramSeries;
  /** `performance.now()` of the last exemplar, per bucket (+Inf last); `-Infinity` for none yet. */
  readonly exemplarAt: Float64Array;
}

/**
 * A bucket's exemplar is replaced at most this often. Prometheus keeps one exemplar per bucket per
 * scrape, so replacing it on every request of a busy route is work nobody reads.
 */
export const EXEMPLAR_MIN_INTERVAL_MS = 1000;

/** Settings of the HTTP metrics. */
export interface HttpMetricsSettings {
  readonly buckets: readonly number[];
  readonly bodySizes: boolean;
  readonly maxLabelSets: number;
  readonly exemplars: boolean;
  /** Told once per instance when the prom-client fast path is off (counted and warned by the caller). Default: none. */
  readonly reportError?: (component: string, err: unknown) => void;
  /** What the loaded prom-client supports. Default: the adapter's check at load ({@link PROM_CLIENT}). */
  readonly promClient?: PromClientSupport;
}

/**
 * The per-request HTTP metrics: duration histogram, in-flight gauge, optional
 * body sizes, aborted counter, and the cardinality guard that folds label sets
 * past the cap into `route="other"` (counted in `observability_label_overflow_total`).
 */
export class HttpMetrics {
  /** `http_server_request_duration_seconds{method,route,status_code}`. */
  readonly duration: Histogram<string>;
  /** `http_server_active_requests` (its value is taken from {@link HttpMetrics.begin}/{@link HttpMetrics.end} at collection). */
  readonly active: Gauge<string>;
  #inFlight = 0;
  readonly #aborted: Counter<string>;
  readonly #overflow: Counter<string>;
  readonly #requestSize: Histogram<string> | undefined;
  readonly #responseSize: Histogram<string> | undefined;
  /**
   * Admitted label sets as method -> status -> route -> the frozen labels object, reused for every
   * observation of that set (no per-request key string or labels object).
   */
  readonly #seen = new Map<string, Map<string, Map<string, Admitted>>>();
  #seenCount = 0;
  readonly #max: number;
  readonly #exemplars: boolean;
  readonly #bounds: readonly number[];
  readonly #promClient: PromClientSupport;

  /** Register the HTTP metrics on `collector`. */
  constructor(collector: MetricsCollector, settings: HttpMetricsSettings) {
    this.#max = settings.maxLabelSets;
    this.#exemplars = settings.exemplars;
    this.#bounds = [...settings.buckets];
    this.#promClient = settings.promClient ?? PROM_CLIENT;
    if (this.#promClient.reason !== undefined) settings.reportError?.('prom-client-adapter', new Error(this.#promClient.reason));
    this.duration = collector.histogram(
      DURATION_METRIC,
      'Duration of HTTP server requests, by route template.',
      ['method', 'route', 'status_code'],
      settings.buckets,
      { exemplars: settings.exemplars },
    );
    // Counted in a plain integer on the request path and copied into the gauge when it is collected
    // (prom-client calls a metric's `collect` before every read), instead of two gauge updates per request.
    const inFlight = (): number => this.#inFlight;
    this.active = collector.gauge('http_server_active_requests', 'Number of HTTP server requests in flight.', [], {
      collect(this: Gauge<string>) {
        this.set(inFlight());
      },
    });
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

  /** A request entered the middleware. */
  begin(): void {
    this.#inFlight++;
  }

  /** A request finished or was aborted. */
  end(): void {
    this.#inFlight--;
  }

  /** True when body-size histograms are recorded. */
  get recordsSizes(): boolean {
    return this.#requestSize !== undefined;
  }

  #admitted(method: string, route: string, status: string): Admitted {
    const labels = Object.freeze({ method, route, status_code: status });
    return { labels, series: bindHistogramSeries(this.duration, labels, this.#promClient), exemplarAt: new Float64Array(this.#bounds.length + 1).fill(-Infinity) };
  }

  /** Apply the cardinality cap; returns the admitted label set (route possibly folded to `other`). */
  #admit(method: string, route: string, status: string): Admitted {
    const routes = innerMap(innerMap(this.#seen, method), status);
    const known = routes.get(route);
    if (known) return known;
    if (this.#seenCount >= this.#max && route !== OVERFLOW_ROUTE && route !== UNMATCHED_ROUTE) {
      this.#overflow.inc({ metric: DURATION_METRIC });
      let folded = routes.get(OVERFLOW_ROUTE);
      if (!folded) {
        folded = this.#admitted(method, OVERFLOW_ROUTE, status);
        routes.set(OVERFLOW_ROUTE, folded);
        this.#seenCount++;
      }
      return folded;
    }
    const admitted = this.#admitted(method, route, status);
    routes.set(route, admitted);
    this.#seenCount++;
    return admitted;
  }

  /** Record one finished request's duration; returns the route label used (after the cap). */
  record(method: string, route: string, status: string, seconds: number, traceId: string | undefined): string {
    const admitted = this.#admit(method, route, status);
    const labels = admitted.labels;
    let exemplar: Record<string, string> | undefined;
    let bucket: number | undefined;
    if (this.#exemplars && traceId) {
      // The duration histogram's bounds are these same buckets, so the series reuses the index.
      bucket = bucketIndex(this.#bounds, seconds);
      const now = performance.now();
      if (now - (admitted.exemplarAt[bucket] as number) >= EXEMPLAR_MIN_INTERVAL_MS) {
        admitted.exemplarAt[bucket] = now;
        exemplar = { trace_id: traceId };
      }
    }
    admitted.series.observe(seconds, exemplar, bucket);
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
