import type { IncomingMessage } from 'node:http';
import { Registry } from './metrics/prom-client';
import type { AnyRegistry } from './metrics/registry';
import { assertBuckets } from './metrics/collector';
import { OTEL_HTTP_DURATION_BUCKETS } from './metrics/http-metrics';
import { resolveHealthOptions, type HealthOptions, type ResolvedHealthOptions } from './health/options';
import { resolveLoggingOptions, type LoggingOptions, type ResolvedLoggingOptions } from './logging/options';
import { resolveSystemOptions, type ResolvedSystemOptions, type SystemOptions } from './system/options';
import { resolveDashboardOptions, type DashboardOptions, type ResolvedDashboardOptions } from './dashboard/options';
import { resolveAuthOptions, type AuthOptions, type ResolvedAuthOptions } from './http/auth';
import { resolveTracingOptions, type ResolvedTracingOptions, type TracingOptions } from './tracing/options';
import { resolveAlertsOptions, type AlertsOptions, type ResolvedAlertsOptions } from './alerts/options';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './cluster/options';
import { resolveRedactionOptions, type RedactionOptions, type ResolvedRedactionOptions } from './redaction/options';
import { envError } from './otlp/env';
import {
  readBool,
  readFunction,
  readNumber,
  readOptionalString,
  readPatterns,
  readSection,
  readString,
  readStringRecord,
  typeError,
} from './util/validate';

/** Options of the HTTP and process metrics. */
export interface MetricsOptions {
  /** Register prom-client's default process metrics on the instance's registry. Default `true`. */
  readonly defaultMetrics?: boolean;
  /** Name prefix for prom-client's default process metrics. Default `''`. */
  readonly prefix?: string;
  /** Labels added to every series of the registry (e.g. `{ env: 'prod' }`). Default `{}`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** Buckets of `http_server_request_duration_seconds`, in seconds. Default: the OpenTelemetry HTTP semconv buckets. */
  readonly buckets?: readonly number[];
  /** Also record request and response body size histograms. Default `false`. */
  readonly bodySizes?: boolean;
  /** Hard cap on distinct (method, route, status_code) label sets; the excess folds into `route="other"`. Default `2500`. */
  readonly maxLabelSets?: number;
  /**
   * Requests to these paths are not measured, traced or access-logged (exact strings, or RegExps tested
   * against the path without query); their `req.log` writes nothing. Default: none (`[]`): the requests
   * the router answers are never measured wherever it is mounted, and every other path is the app's.
   */
  readonly excludePaths?: readonly (string | RegExp)[];
  /**
   * Route label for requests with no `req.route` (Connect apps, middleware-only responses).
   * Default: Express requests get `"unmatched"`, Connect requests the built-in id-folding normalizer.
   */
  readonly normalizePath?: (req: IncomingMessage) => string;
}

/** Options of `createObservability()`. Every option is optional. */
export interface ObservabilityOptions {
  /**
   * `service.name` of traces, logs and metrics. Options win over the environment; when omitted:
   * `OTEL_SERVICE_NAME`, else `"unknown_service:node"`. (The demo app passes `OTEL_SERVICE_NAME` first, so
   * there the variable overrides its built-in name.)
   */
  readonly serviceName?: string;
  /** `service.version`. Default: `OTEL_RESOURCE_ATTRIBUTES`'s `service.version`, else `"0.0.0"`. */
  readonly serviceVersion?: string;
  /** Registry to register every metric on. Default: a new private prom-client `Registry` (OpenMetrics-capable). */
  readonly registry?: AnyRegistry;
  /** HTTP and process metrics. */
  readonly metrics?: MetricsOptions;
  /** OpenTelemetry tracing (SERVER span per request, OTLP/HTTP export, in-memory recent traces). Default: on, no export. */
  readonly tracing?: TracingOptions;
  /** Background system sampler (CPU, memory, filesystems, load, event-loop delay). Default: on, every 15 s. */
  readonly system?: SystemOptions;
  /** Health checks: cache TTL, default deadline, built-in check thresholds. */
  readonly health?: HealthOptions;
  /** Structured JSON logger, access log, Elasticsearch / Loki shipping. Default: stdout, level info, access log on. */
  readonly logging?: LoggingOptions;
  /**
   * What counts as secret in logs, access lines, spans, health output and the dashboard (docs/redaction.md).
   * Default: the built-in terms, `{ add: [], remove: [] }`; `logging.redact` is added to `add`.
   */
  readonly redaction?: RedactionOptions;
  /** The built-in dashboard at `GET /dashboard` (page + JSON API). Default: on when the router serves its views (see `views`). */
  readonly dashboard?: DashboardOptions;
  /** Access control of the router's endpoints (bearer, basic, IP/CIDR allowlist, custom). Default: none (open). */
  readonly auth?: AuthOptions;
  /**
   * Serve the router's views: the dashboard with its trace and log APIs (`/dashboard*`) and the alert
   * endpoints (`/alerts*`), which show client addresses, user agents, stack traces with file paths and
   * logged fields. `true` serves them even without `auth` (open to anyone who reaches the router; a
   * warning is logged once at start); `false` never serves them. Default: served when `auth` is set or
   * `NODE_ENV` is not `production`; in production without `auth` the router serves only `/metrics`
   * and `/health*` (docs/security.md).
   */
  readonly views?: boolean;
  /** Alert rules and SLOs, evaluated in-process and exported as a Prometheus rule file. Default: no rules. */
  readonly alerts?: AlertsOptions;
  /** Cluster mode: in a Node `cluster` worker, `/metrics` answers for all workers (the primary calls `setupClusterPrimary()`). Default: off. */
  readonly cluster?: ClusterOptions;
  /**
   * `obs.middleware` also answers the router's endpoints at the root (`/metrics`, `/health*`,
   * `/dashboard*`, `/alerts*`, behind `auth` when set), so one `app.use(obs.middleware)` is the whole
   * setup. A convenience, not a speed-up (docs/metrics.md, "One layer instead of two"). Leave it off (the default) when the router is mounted under a prefix or
   * served on an internal port. Default `false`.
   */
  readonly middlewareEndpoints?: boolean;
}

/** Metric options with every default filled in. */
export interface ResolvedMetricsOptions {
  readonly defaultMetrics: boolean;
  readonly prefix: string;
  readonly defaultLabels: Readonly<Record<string, string>>;
  readonly buckets: readonly number[];
  readonly bodySizes: boolean;
  readonly maxLabelSets: number;
  readonly excludePaths: readonly (string | RegExp)[];
  readonly normalizePath: ((req: IncomingMessage) => string) | undefined;
}

/** All options with defaults resolved; frozen, never the caller's object. */
export interface ResolvedOptions {
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly registry: AnyRegistry | undefined;
  readonly metrics: ResolvedMetricsOptions;
  readonly tracing: ResolvedTracingOptions;
  readonly system: ResolvedSystemOptions;
  readonly health: ResolvedHealthOptions;
  readonly logging: ResolvedLoggingOptions;
  readonly redaction: ResolvedRedactionOptions;
  readonly dashboard: ResolvedDashboardOptions;
  /** `undefined` when the router is open. */
  readonly auth: ResolvedAuthOptions | undefined;
  readonly views: ResolvedViews;
  readonly alerts: ResolvedAlertsOptions;
  readonly cluster: ResolvedClusterOptions;
  readonly middlewareEndpoints: boolean;
}

/** Whether the router serves its views, and whether it says so at start. */
export interface ResolvedViews {
  /** Serve `/dashboard*` and `/alerts*`. */
  readonly serve: boolean;
  /** Served without `auth` because `views: true` asked for it: warn once at start. */
  readonly warnOpen: boolean;
}

/** Resolve the `views` option against `auth` and `NODE_ENV`. */
function resolveViews(top: Record<string, unknown>, auth: ResolvedAuthOptions | undefined, env: NodeJS.ProcessEnv): ResolvedViews {
  const explicit = top.views === undefined ? undefined : readBool(top, 'views', '', false);
  const serve = explicit ?? (auth !== undefined || env.NODE_ENV !== 'production');
  return Object.freeze({ serve, warnOpen: explicit === true && auth === undefined });
}

/**
 * Label names `metrics.defaultLabels` may not use: `le` and `quantile` (Prometheus reserves them for
 * buckets and quantiles), and every label of the package's own metrics and prom-client's default
 * metrics, which a default label would overwrite on some series and not on others.
 */
export const RESERVED_LABELS: ReadonlySet<string> = new Set([
  'le',
  'quantile',
  'component',
  'cpu',
  'device',
  'fstype',
  'kind',
  'major',
  'method',
  'metric',
  'minor',
  'mountpoint',
  'patch',
  'probe',
  'reason',
  'route',
  'space',
  'state',
  'status_code',
  'transport',
  'type',
  'version',
]);

/**
 * Paths excluded from measurement by default: none. The router marks the requests it answers itself
 * (never measured, traced or logged), so an application route under `/alerts` or `/dashboard` that the
 * router does not serve is measured like any other.
 */
export const DEFAULT_EXCLUDED_PATHS: readonly (string | RegExp)[] = Object.freeze([]);

const TOP_KEYS = ['serviceName', 'serviceVersion', 'registry', 'metrics', 'tracing', 'system', 'health', 'logging', 'redaction', 'dashboard', 'auth', 'views', 'alerts', 'cluster', 'middlewareEndpoints'] as const;
const METRIC_KEYS = [
  'defaultMetrics',
  'prefix',
  'defaultLabels',
  'buckets',
  'bodySizes',
  'maxLabelSets',
  'excludePaths',
  'normalizePath',
] as const;

function resourceAttribute(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const raw = env.OTEL_RESOURCE_ATTRIBUTES;
  if (!raw) return undefined;
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=');
    if (i > 0 && pair.slice(0, i).trim() === key) {
      const value = pair.slice(i + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        envError('OTEL_RESOURCE_ATTRIBUTES', `percent-encoded values (${key}'s is not)`, raw);
      }
    }
  }
  return undefined;
}

/** Validate `options` and resolve every default (environment read once, here). */
export function resolveOptions(options: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const top = readSection(options, '', TOP_KEYS);
  const m = readSection(top.metrics, 'metrics', METRIC_KEYS);
  const registry = top.registry;
  if (registry !== undefined && !(registry instanceof Registry)) typeError('registry', 'a prom-client Registry', registry);

  const buckets = m.buckets === undefined ? OTEL_HTTP_DURATION_BUCKETS : m.buckets;
  try {
    assertBuckets('metrics.buckets', buckets);
  } catch (err) {
    const e = err as Error;
    const msg = e.message.replace(/^express-observability: /, '');
    throw new (e instanceof RangeError ? RangeError : TypeError)(`express-observability: option "metrics.buckets" is invalid: ${msg}`);
  }

  const defaultLabels = readStringRecord(m, 'defaultLabels', 'metrics');
  for (const k of Object.keys(defaultLabels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith('__')) typeError(`metrics.defaultLabels.${k}`, 'a valid label name', k);
    if (RESERVED_LABELS.has(k)) typeError(`metrics.defaultLabels.${k}`, "a label name the package's metrics do not use", k);
  }
  const prefix = readString(m, 'prefix', 'metrics', '', true);
  if (prefix !== '' && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) typeError('metrics.prefix', 'a valid metric name prefix', prefix);

  // An empty variable is unset (the OpenTelemetry specification's rule for every variable).
  const serviceName = readOptionalString(top, 'serviceName', '') ?? (env.OTEL_SERVICE_NAME?.trim() || undefined) ?? 'unknown_service:node';
  const serviceVersion =
    readOptionalString(top, 'serviceVersion', '') ?? resourceAttribute(env, 'service.version') ?? '0.0.0';

  const auth = resolveAuthOptions(top.auth);
  const logging = resolveLoggingOptions(top.logging, env);
  const views = resolveViews(top, auth, env);
  const dashboard = resolveDashboardOptions(top.dashboard, views.serve);
  return Object.freeze({
    serviceName,
    serviceVersion,
    registry: registry as AnyRegistry | undefined,
    metrics: Object.freeze({
      defaultMetrics: readBool(m, 'defaultMetrics', 'metrics', true),
      prefix,
      defaultLabels,
      buckets: Object.freeze([...(buckets as number[])]),
      bodySizes: readBool(m, 'bodySizes', 'metrics', false),
      maxLabelSets: readNumber(m, 'maxLabelSets', 'metrics', 2500, { min: 1, integer: true }),
      excludePaths: readPatterns(m, 'excludePaths', 'metrics', DEFAULT_EXCLUDED_PATHS),
      normalizePath: readFunction<(req: IncomingMessage) => string>(m, 'normalizePath', 'metrics'),
    }),
    tracing: resolveTracingOptions(top.tracing, env, dashboard.enabled),
    system: resolveSystemOptions(top.system),
    health: resolveHealthOptions(top.health),
    logging,
    redaction: resolveRedactionOptions(top.redaction, logging.redact),
    dashboard,
    auth,
    views,
    alerts: resolveAlertsOptions(top.alerts, buckets as readonly number[]),
    cluster: resolveClusterOptions(top.cluster),
    middlewareEndpoints: readBool(top, 'middlewareEndpoints', '', false),
  });
}
