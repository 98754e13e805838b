import { describe } from '../util/validate';
import { formatDuration, parseDuration } from './duration';
import { checkTemplate } from './templates';
import type { CompareOp } from './types';

/** A rule set that cannot be used; the message names the rule and the field. */
export class RuleError extends TypeError {
  override readonly name = 'RuleError';
}

/** Kinds of resolved rules (`sloBurn` is generated from an SLO). */
export type RuleKind = 'errorRatio' | 'latency' | 'gauge' | 'rate' | 'absence' | 'sloBurn';

/** The burn-rate condition of an SLO alert. */
export interface ResolvedBurn {
  readonly longMs: number;
  readonly shortMs: number;
  readonly factor: number;
}

/** What an SLO alert needs to know about its SLO. */
export interface SloRef {
  readonly name: string;
  readonly objective: number;
  /** Good = finished within this many seconds; undefined: good = not 5xx. */
  readonly latency: number | undefined;
  readonly burn: ResolvedBurn;
}

/** One alerting rule with defaults resolved. Fields a kind does not use hold neutral values. */
export interface ResolvedRule {
  readonly kind: RuleKind;
  readonly name: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly severity: string;
  /** Labels of the alert besides `alertname` and `severity` (includes `route` and `slo`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly route: string | undefined;
  readonly metric: string | undefined;
  readonly matchers: Readonly<Record<string, string>>;
  readonly by: readonly string[];
  readonly windowMs: number;
  readonly quantile: number;
  readonly op: CompareOp;
  readonly threshold: number;
  readonly slo: SloRef | undefined;
}

/** One SLO with defaults resolved, and its burn-rate alerts. */
export interface ResolvedSlo {
  readonly name: string;
  readonly objective: number;
  readonly route: string | undefined;
  readonly latency: number | undefined;
  readonly periodMs: number;
  /** Every window a ratio is recorded for (burn-rate windows and the period), ascending. */
  readonly windowsMs: readonly number[];
  readonly alerts: readonly ResolvedRule[];
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const OPS: readonly CompareOp[] = ['>', '>=', '<', '<=', '==', '!='];
const RESERVED = ['alertname', 'severity', '__name__'];
const COMMON = ['name', 'kind', 'for', 'keepFiringFor', 'severity', 'labels', 'annotations'];
const KIND_KEYS: Readonly<Record<string, readonly string[]>> = {
  errorRatio: ['route', 'window', 'threshold'],
  latency: ['quantile', 'route', 'window', 'threshold'],
  gauge: ['metric', 'matchers', 'op', 'threshold'],
  rate: ['metric', 'matchers', 'by', 'window', 'op', 'threshold'],
  absence: ['route', 'window'],
};
const SLO_KEYS = ['name', 'objective', 'route', 'latency', 'period', 'burnRates', 'labels', 'annotations'];
const BURN_KEYS = ['long', 'short', 'factor', 'severity', 'for'];

/** Default burn-rate alerts of the SRE Workbook: fast (page) and slow. */
export const DEFAULT_BURN_RATES = Object.freeze([
  Object.freeze({ long: '1h', short: '5m', factor: 14.4, severity: 'critical' }),
  Object.freeze({ long: '6h', short: '30m', factor: 6, severity: 'warning' }),
]);

/** Builds errors that name the rule and the field. */
class Reader {
  constructor(
    readonly bag: Readonly<Record<string, unknown>>,
    readonly where: string,
    readonly what: string,
  ) {}

  fail(field: string, msg: string): never {
    throw new RuleError(`express-observability: ${this.what} (${this.where}) field "${field}" ${msg}`);
  }

  /** A string safe inside a PromQL "..." literal and a YAML scalar, never a template. */
  safe(field: string, v: unknown, optional = true): string | undefined {
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.length === 0) this.fail(field, `must be a non-empty string, got ${describe(v)}`);
    // eslint-disable-next-line no-control-regex
    if (/["\\`\u0000-\u001f\u007f]/.test(v) || v.includes('{{')) {
      this.fail(field, `value ${JSON.stringify(v)} would break the PromQL/YAML export (quotes, backslashes, control characters and "{{" are not allowed)`);
    }
    return v;
  }

  duration(field: string, fallback: string | undefined): number {
    const v = this.bag[field] ?? fallback;
    if (v === undefined) this.fail(field, 'is required (a Prometheus duration like "5m")');
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined) this.fail(field, `must be a Prometheus duration like "30s", "5m" or "1h", got ${describe(v)}`);
    return ms;
  }

  number(field: string, fallback?: number, check?: (n: number) => string | undefined): number {
    const v = this.bag[field] ?? fallback;
    if (v === undefined) this.fail(field, 'is required (a number)');
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `must be a finite number, got ${describe(v)}`);
    const err = check?.(v);
    if (err) this.fail(field, `${err}, got ${v}`);
    return v;
  }

  record(field: string, templates: boolean): Record<string, string> {
    const v = this.bag[field];
    if (v === undefined) return {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, `must be an object of strings, got ${describe(v)}`);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (!NAME.test(k) || k.startsWith('__')) this.fail(`${field}.${k}`, 'is not a valid label/annotation name');
      if (templates) {
        if (typeof val !== 'string') this.fail(`${field}.${k}`, `must be a string, got ${describe(val)}`);
        const err = checkTemplate(val);
        if (err) this.fail(`${field}.${k}`, err);
        out[k] = val;
      } else {
        out[k] = this.safe(`${field}.${k}`, val, false) as string;
      }
    }
    return out;
  }
}

function bagOf(v: unknown, where: string, what: string): Readonly<Record<string, unknown>> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RuleError(`express-observability: ${what} (${where}) must be an object, got ${describe(v)}`);
  return v as Readonly<Record<string, unknown>>;
}

function unknownKeys(r: Reader, allowed: readonly string[]): void {
  for (const k of Object.keys(r.bag)) if (!allowed.includes(k)) r.fail(k, `is not a known field (known: ${allowed.join(', ')})`);
}

function defaultSummary(kind: RuleKind, rule: { route?: string | undefined; metric?: string | undefined; quantile: number }): string {
  const on = rule.route ? ` on route ${rule.route}` : '';
  switch (kind) {
    case 'errorRatio': return `Error ratio${on || ' across all routes'} is {{ $value | humanizePercentage }}`;
    case 'latency': return `p${Math.round(rule.quantile * 1000) / 10} latency${on} is {{ $value | humanizeDuration }}`;
    case 'gauge': return `${rule.metric} is {{ $value | humanize }}`;
    case 'rate': return `${rule.metric} rate is {{ $value | humanize }}/s`;
    case 'absence': return `No requests${on} during the window`;
    default: return 'SLO {{ $labels.slo }} error budget burning: error ratio {{ $value | humanizePercentage }}';
  }
}

/** Validate one alerting rule; `where` locates it (`alerts.rules[2]`). */
export function resolveRule(spec: unknown, where: string): ResolvedRule {
  const bag = bagOf(spec, where, 'alert rule');
  const label = typeof bag.name === 'string' ? `alert rule "${bag.name}"` : 'alert rule';
  const r: Reader = new Reader(bag, where, label);
  if (typeof bag.name !== 'string' || !NAME.test(bag.name)) r.fail('name', `must match ${NAME} (it becomes the alertname), got ${describe(bag.name)}`);
  const name = bag.name;
  const kind = bag.kind;
  if (typeof kind !== 'string' || !Object.keys(KIND_KEYS).includes(kind)) r.fail('kind', `must be one of ${Object.keys(KIND_KEYS).join(', ')}, got ${describe(kind)}`);
  unknownKeys(r, [...COMMON, ...(KIND_KEYS[kind] as readonly string[])]);
  const route = r.safe('route', bag.route);
  const metric = bag.metric === undefined && (kind === 'gauge' || kind === 'rate') ? r.fail('metric', 'is required') : bag.metric;
  if (metric !== undefined && (typeof metric !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric))) r.fail('metric', `must be a metric name, got ${describe(metric)}`);
  const matchers = r.record('matchers', false);
  const by = bag.by === undefined ? [] : Array.isArray(bag.by) ? bag.by : r.fail('by', `must be an array of label names, got ${describe(bag.by)}`);
  by.forEach((l: unknown, i: number) => {
    if (typeof l !== 'string' || !NAME.test(l)) r.fail(`by[${i}]`, `must be a label name, got ${describe(l)}`);
  });
  const op = (bag.op ?? '>') as CompareOp;
  if (!OPS.includes(op)) r.fail('op', `must be one of ${OPS.join(' ')}, got ${describe(bag.op)}`);
  const quantile = kind === 'latency' ? r.number('quantile', 0.99, (n) => (n > 0 && n < 1 ? undefined : 'must be in (0, 1)')) : 0;
  const windowMs = kind === 'gauge' ? 0 : r.duration('window', kind === 'absence' ? '10m' : '5m');
  if (kind !== 'gauge' && windowMs < 1000) r.fail('window', `must be at least 1s, got ${formatDuration(windowMs)}`);
  const threshold =
    kind === 'absence'
      ? 1
      : r.number('threshold', undefined, kind === 'errorRatio' ? (n) => (n >= 0 && n <= 1 ? undefined : 'must be a ratio in [0, 1]') : kind === 'latency' ? (n) => (n > 0 ? undefined : 'must be seconds > 0') : undefined);
  const labels = r.record('labels', false);
  for (const k of RESERVED) if (k in labels) r.fail(`labels.${k}`, 'is reserved (set severity with the "severity" field)');
  if (route !== undefined) labels.route = route;
  const annotations = r.record('annotations', true);
  annotations.summary ??= defaultSummary(kind as RuleKind, { route, metric: metric as string | undefined, quantile });
  return Object.freeze({
    kind: kind as RuleKind,
    name,
    forMs: r.duration('for', '0s'),
    keepFiringForMs: r.duration('keepFiringFor', '0s'),
    severity: r.safe('severity', bag.severity) ?? 'warning',
    labels: Object.freeze(labels),
    annotations: Object.freeze(annotations),
    route,
    metric: metric as string | undefined,
    matchers: Object.freeze(matchers),
    by: Object.freeze([...(by as string[])]),
    windowMs,
    quantile,
    op: kind === 'absence' ? '<' : op,
    threshold,
    slo: undefined,
  });
}

/** Validate one SLO and build its burn-rate alerts; `buckets` (when known) must contain its latency bound. */
export function resolveSlo(spec: unknown, where: string, buckets?: readonly number[]): ResolvedSlo {
  const bag = bagOf(spec, where, 'SLO');
  const r: Reader = new Reader(bag, where, typeof bag.name === 'string' ? `SLO "${bag.name}"` : 'SLO');
  unknownKeys(r, SLO_KEYS);
  if (typeof bag.name !== 'string' || !NAME.test(bag.name)) r.fail('name', `must match ${NAME}, got ${describe(bag.name)}`);
  const name: string = bag.name;
  const objective = r.number('objective', undefined, (n) => (n > 0 && n < 1 ? undefined : 'must be a ratio in (0, 1) such as 0.999'));
  const route = r.safe('route', bag.route);
  const latency = bag.latency === undefined ? undefined : r.number('latency', undefined, (n) => (n > 0 ? undefined : 'must be seconds > 0'));
  if (latency !== undefined && buckets && !buckets.includes(latency)) {
    r.fail('latency', `must be one of the duration histogram's bucket bounds (${buckets.join(', ')}) so it can be counted exactly`);
  }
  const periodMs = r.duration('period', '30d');
  const burnSpecs: unknown = bag.burnRates === undefined ? DEFAULT_BURN_RATES : bag.burnRates;
  if (!Array.isArray(burnSpecs) || burnSpecs.length === 0) return r.fail('burnRates', `must be a non-empty array, got ${describe(bag.burnRates)}`);
  const labels = r.record('labels', false);
  for (const k of [...RESERVED, 'slo', 'long_window']) if (k in labels) r.fail(`labels.${k}`, 'is reserved');
  const annotations = r.record('annotations', true);
  const windows = new Set<number>([periodMs]);
  const alerts = burnSpecs.map((b: unknown, i: number) => {
    const br: Reader = new Reader(bagOf(b, `${where}.burnRates[${i}]`, `SLO "${name}" burn rate`), `${where}.burnRates[${i}]`, `SLO "${name}" burn rate`);
    unknownKeys(br, BURN_KEYS);
    const longMs = br.duration('long', undefined);
    const shortMs = br.duration('short', undefined);
    if (shortMs >= longMs) br.fail('short', 'must be shorter than "long"');
    const factor = br.number('factor', undefined, (n) => (n > 0 ? undefined : 'must be > 0'));
    windows.add(longMs).add(shortMs);
    const alertLabels: Record<string, string> = { ...labels, slo: name, long_window: formatDuration(longMs) };
    if (route !== undefined) alertLabels.route = route;
    const rule: ResolvedRule = {
      kind: 'sloBurn',
      name: `${name}ErrorBudgetBurn`,
      forMs: br.duration('for', '0s'),
      keepFiringForMs: 0,
      severity: br.safe('severity', br.bag.severity, false) as string,
      labels: Object.freeze(alertLabels),
      annotations: Object.freeze({ summary: defaultSummary('sloBurn', { quantile: 0 }), ...annotations }),
      route,
      metric: undefined,
      matchers: Object.freeze({}),
      by: Object.freeze([]),
      windowMs: longMs,
      quantile: 0,
      op: '>',
      threshold: factor * (1 - objective),
      slo: Object.freeze({ name, objective, latency, burn: Object.freeze({ longMs, shortMs, factor }) }),
    };
    return Object.freeze(rule);
  });
  return Object.freeze({
    name,
    objective,
    route,
    latency,
    periodMs,
    windowsMs: Object.freeze([...windows].sort((x, y) => x - y)),
    alerts: Object.freeze(alerts),
  });
}
