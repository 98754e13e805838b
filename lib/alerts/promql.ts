import { stringify } from 'yaml';
import { formatDuration } from './duration';
import { OTEL_HTTP_DURATION_BUCKETS } from '../metrics/http-metrics';
import { resolveAlertsOptions, type AlertsOptions, type ResolvedAlertsOptions } from './options';
import type { ResolvedRule, ResolvedSlo } from './rules';
import { DURATION_METRIC } from './sources';

/** The export settings the renderer needs. */
export type ExportSettings = Pick<ResolvedAlertsOptions, 'rules' | 'slos' | 'groupBy' | 'matchers' | 'groupName'>;

/** Name of the recorded SLI error ratio over `windowMs`. */
export function sliRecordName(windowMs: number): string {
  return `slo:sli_error:ratio_rate${formatDuration(windowMs)}`;
}

/** Name of the recorded error budget remaining. */
export const BUDGET_RECORD = 'slo:error_budget_remaining:ratio';

/** Name of the recorded objective (a constant per SLO), so a burn rate is `ratio / on(slo) group_left() (1 - objective)`. */
export const OBJECTIVE_RECORD = 'slo:objective:ratio';

/** Renders PromQL for one rule set, with the export's matchers and aggregation labels. */
class Promql {
  constructor(readonly s: ExportSettings) {}

  selector(metric: string, route: string | undefined, extra: Readonly<Record<string, string>> = {}, regex: Readonly<Record<string, string>> = {}): string {
    const parts = Object.entries({ ...this.s.matchers, ...extra }).map(([k, v]) => `${k}="${v}"`);
    if (route !== undefined) parts.push(`route="${route}"`);
    for (const [k, v] of Object.entries(regex)) parts.push(`${k}=~"${v}"`);
    return parts.length ? `${metric}{${parts.join(',')}}` : metric;
  }

  sum(inner: string, extraBy: readonly string[] = []): string {
    const by = [...new Set([...extraBy, ...this.s.groupBy])];
    return by.length ? `sum by (${by.join(', ')}) (${inner})` : `sum(${inner})`;
  }

  /** Share of bad requests over `w`: 5xx, or slower than `latency` seconds. */
  badRatio(route: string | undefined, latency: number | undefined, w: string): string {
    const all = this.sum(`rate(${this.selector(`${DURATION_METRIC}_count`, route)}[${w}])`);
    if (latency !== undefined) {
      const good = this.sum(`rate(${this.selector(`${DURATION_METRIC}_bucket`, route, { le: String(latency) })}[${w}])`);
      return `1 - (${good} / ${all})`;
    }
    const bad = this.sum(`rate(${this.selector(`${DURATION_METRIC}_count`, route, {}, { status_code: '5..' })}[${w}])`);
    // Without any 5xx series the numerator would be empty: fall back to zero with the same labels.
    return `(${bad} or ${all} * 0) / ${all}`;
  }

  expr(r: ResolvedRule): string {
    const w = formatDuration(r.windowMs);
    switch (r.kind) {
      case 'errorRatio': {
        const bad = this.sum(`rate(${this.selector(`${DURATION_METRIC}_count`, r.route, {}, { status_code: '5..' })}[${w}])`);
        const all = this.sum(`rate(${this.selector(`${DURATION_METRIC}_count`, r.route)}[${w}])`);
        return `${bad} / ${all} ${r.op} ${r.threshold}`;
      }
      case 'latency': {
        const buckets = this.sum(`rate(${this.selector(`${DURATION_METRIC}_bucket`, r.route)}[${w}])`, ['le']);
        return `histogram_quantile(${r.quantile}, ${buckets}) ${r.op} ${r.threshold}`;
      }
      case 'gauge':
        return `${this.selector(r.metric as string, undefined, r.matchers)} ${r.op} ${r.threshold}`;
      case 'rate':
        return `${this.sum(`rate(${this.selector(r.metric as string, undefined, r.matchers)}[${w}])`, r.by)} ${r.op} ${r.threshold}`;
      case 'absence':
        return `(${this.sum(`increase(${this.selector(`${DURATION_METRIC}_count`, r.route)}[${w}])`)} or on() vector(0)) < 1`;
      default: {
        const slo = r.slo as NonNullable<ResolvedRule['slo']>;
        const thr = `(${slo.burn.factor} * (1 - ${slo.objective}))`;
        const sel = (ms: number): string => `${sliRecordName(ms)}{slo="${slo.name}"}`;
        return `${sel(slo.burn.longMs)} > ${thr} and ${sel(slo.burn.shortMs)} > ${thr}`;
      }
    }
  }
}

function alertRule(p: Promql, r: ResolvedRule): Record<string, unknown> {
  const out: Record<string, unknown> = { alert: r.name, expr: p.expr(r) };
  if (r.forMs > 0) out.for = formatDuration(r.forMs);
  if (r.keepFiringForMs > 0) out.keep_firing_for = formatDuration(r.keepFiringForMs);
  out.labels = { severity: r.severity, ...r.labels };
  out.annotations = { ...r.annotations };
  return out;
}

function sloGroup(p: Promql, slo: ResolvedSlo, groupName: string): Record<string, unknown> {
  const rules: Record<string, unknown>[] = slo.windowsMs.map((ms) => ({
    record: sliRecordName(ms),
    expr: p.badRatio(slo.route, slo.latency, formatDuration(ms)),
    labels: { slo: slo.name },
  }));
  rules.push({ record: OBJECTIVE_RECORD, expr: `vector(${slo.objective})`, labels: { slo: slo.name } });
  rules.push({
    record: BUDGET_RECORD,
    expr: `1 - (${sliRecordName(slo.periodMs)}{slo="${slo.name}"} / (1 - ${slo.objective}))`,
    labels: { slo: slo.name },
  });
  for (const a of slo.alerts) rules.push(alertRule(p, a));
  return { name: `${groupName}-slo-${slo.name}`, rules };
}

/** The rule set as a Prometheus rule file (YAML, PromQL): alerting rules, then one group per SLO. */
export function toPrometheusRules(s: ExportSettings): string {
  const p = new Promql(s);
  const groups: Record<string, unknown>[] = [];
  if (s.rules.length > 0) groups.push({ name: s.groupName, rules: s.rules.map((r) => alertRule(p, r)) });
  for (const slo of s.slos) groups.push(sloGroup(p, slo, s.groupName));
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
