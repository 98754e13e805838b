/**
 * express-observability: Prometheus metrics, OpenTelemetry traces, structured
 * logs, health, alerts and a dashboard for Express and Connect, from one instance.
 * This file only re-exports.
 */
export { createObservability } from './observability';
export type { Observability, WrapOptions } from './observability';
export type { ObservabilityOptions, MetricsOptions, ResolvedOptions, ResolvedMetricsOptions, ResolvedViews } from './options';
export { DEFAULT_EXCLUDED_PATHS } from './options';
export { MetricsCollector } from './metrics/collector';
export type { LabelValues, MetricKind, HistogramExtras } from './metrics/collector';
export {
  OTEL_HTTP_DURATION_BUCKETS,
  BODY_SIZE_BUCKETS,
  UNMATCHED_ROUTE,
  OVERFLOW_ROUTE,
  ABORTED_STATUS,
} from './metrics/http-metrics';
export { normalizePath } from './metrics/normalize';
export { serverOptions } from './http/server';
export type { ServerClasses } from './http/server';
export type { Middleware, ErrorMiddleware, CompletedRequest, RequestState } from './middleware';
export type { ExceptionFilterLike, ArgumentsHostLike } from './http/exception-filter';
export type {
  HealthReport,
  HealthStatus,
  CheckEntry,
  CheckFunction,
  CheckOptions,
  CheckOutcome,
  CheckReturn,
} from './health/health';
export type { HealthChecks } from './health/checks';
export type { HealthOptions, HealthThresholds, ResolvedHealthOptions, Threshold } from './health/options';
export type { ShutdownOptions, ShutdownHandle, ShutdownResult, ShutdownHook } from './health/shutdown';
export type { ShutdownReport, ShutdownCount } from './health/shutdown-report';
export type { SystemOptions, ResolvedSystemOptions } from './system/options';
export { DEFAULT_EXCLUDED_FS_TYPES } from './system/options';
export type { SystemProbes, CpuTimes, MemoryFigures, MountInfo, FsFigures } from './system/probes';
export type { SystemSampler, SystemSnapshot, FilesystemSample } from './system/sampler';
export type { TracingSystem, WithSpanOptions, SpanKindName } from './tracing/tracer';
export type { TracingOptions, ResolvedTracingOptions, SamplerName, OtlpProtocol } from './tracing/options';
export type { SpanRecord, TraceSummary, TraceQuery } from './tracing/span-store';
export { activeSpanIds } from './tracing/active';
export type { SpanIds } from './tracing/active';
export type { ObservabilityLogger } from './logging/logger';
export type { RequestLogger } from './logging/request-log';
export type { LoggingOptions, AccessLogOptions, ResolvedLoggingOptions } from './logging/options';
export type { RedactionOptions, ResolvedRedactionOptions } from './redaction/options';
export { BUILTIN_SECRET_TERMS } from './redaction/options';
export { REDACTED } from './redaction/redactor';
export { ElasticsearchTransport } from './logging/elasticsearch';
export type { ElasticsearchTransportOptions } from './logging/elasticsearch';
export { LokiTransport } from './logging/loki';
export type { LokiTransportOptions } from './logging/loki';
export { JsonLinesTransport } from './logging/stdout';
export type { JsonLinesTransportOptions } from './logging/stdout';
export type { ShipperOptions, DeadLetter } from './logging/shipper-options';
export type { PipelineSnapshot } from './logging/pipeline-metrics';
export type { SpoolOptions } from './logging/spool-options';
export type { SpoolStats } from './logging/spool';
export { SpoolLockedError } from './logging/spool-dir';
export { LOG_LEVELS } from './logging/levels';
export type { LogLevel } from './logging/levels';
export type { Alerts } from './alerts/engine';
export type { AlertsOptions, AlertsExportOptions, ResolvedAlertsOptions, ResolvedNotifier } from './alerts/options';
export type { ResolvedRule, ResolvedSlo, RuleKind } from './alerts/rules';
export { RuleError } from './alerts/rules';
export { renderPrometheusRules } from './alerts/promql';
export type {
  AlertRuleSpec,
  ErrorRatioRuleSpec,
  LatencyRuleSpec,
  GaugeRuleSpec,
  RateRuleSpec,
  AbsenceRuleSpec,
  SloSpec,
  BurnRateSpec,
  CompareOp,
  AlertState,
  AlertSnapshot,
  RuleStatus,
  AlertNotification,
  AlertNotifierFn,
  NotifierSpec,
} from './alerts/types';
export type { Dashboard, DashboardSummary, TraceDetail, RouteDetail } from './dashboard/dashboard';
export type { DashboardOptions, ResolvedDashboardOptions } from './dashboard/options';
export type { SpanView, TraceSummaryView, AlertView } from './dashboard/sources';
export type { RouteRow } from './dashboard/route-stats';
export type { ChartSeries, ChartPoint } from './dashboard/request-history';
export type { LogLine } from './dashboard/log-ring';
export { DASHBOARD_CSP } from './dashboard/http';
export type { AuthOptions, ResolvedAuthOptions, BasicCredential, AuthorizeFn } from './http/auth';
export { DEFAULT_PROTECTED_PATHS, DEFAULT_PUBLIC_PATHS } from './http/auth';
export type { AuthFailureReason } from './http/auth-failures';
export { AUTH_FAILURE_REASONS } from './http/auth-failures';
export { setupClusterPrimary } from './cluster/primary';
export type { ClusterPrimary, ClusterPrimaryOptions } from './cluster/primary';
export type { ClusterOptions, ResolvedClusterOptions } from './cluster/options';
