import { OTEL_HTTP_DURATION_BUCKETS } from '../metrics/http-metrics';
import { formatDuration } from './duration';
import { kindOf, type ResolvedRule } from './kinds';
import { resolveAlertsOptions, type AlertsOptions, type ResolvedAlertsOptions } from './options';
import { PromqlBuilder } from './promql-builder';
import { sloRecordingRules, type ResolvedSlo } from './slo';

/** The export settings the renderer needs. */
export type ExportSettings = Pick<ResolvedAlertsOptions, 'rules' | 'slos' | 'groupBy' | 'matchers' | 'groupName'>;

function alertRule(p: PromqlBuilder, r: ResolvedRule): Record<string, unknown> {
  const out: Record<string, unknown> = { alert: r.name, expr: kindOf(r).promql(r, p) };
  if (r.forMs > 0) out.for = formatDuration(r.forMs);
  if (r.keepFiringForMs > 0) out.keep_firing_for = formatDuration(r.keepFiringForMs);
  out.labels = { severity: r.severity, ...r.labels };
  out.annotations = { ...r.annotations };
  return out;
}

function sloGroup(p: PromqlBuilder, slo: ResolvedSlo, groupName: string): Record<string, unknown> {
  const rules = sloRecordingRules(p, slo);
  for (const a of slo.alerts) rules.push(alertRule(p, a));
  return { name: `${groupName}-slo-${slo.name}`, rules };
}

/** The rule set as a Prometheus rule file (YAML, PromQL): alerting rules, then one group per SLO. */
export function toPrometheusRules(s: ExportSettings): string {
  const p = new PromqlBuilder(s);
  const groups: Record<string, unknown>[] = [];
  if (s.rules.length > 0) groups.push({ name: s.groupName, rules: s.rules.map((r) => alertRule(p, r)) });
  for (const slo of s.slos) groups.push(sloGroup(p, slo, s.groupName));
  // yaml is loaded on the first export only (start-up cost).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy loading
  const { stringify } = require('yaml') as typeof import('yaml');
  return stringify({ groups }, { lineWidth: 0 });
}

/**
 * Validate an `alerts` options object (or the path of a YAML/JSON rules file) and render
 * its Prometheus rule file without creating an instance — what the `express-observability-rules`
 * command runs. Metric names are only checked for syntax here (no registry).
 */
export function renderPrometheusRules(alerts: AlertsOptions | string, buckets: readonly number[] = OTEL_HTTP_DURATION_BUCKETS): string {
  const resolved = resolveAlertsOptions(typeof alerts === 'string' ? { file: alerts } : alerts, buckets);
  return toPrometheusRules({ ...resolved, rules: resolved.rules });
}
