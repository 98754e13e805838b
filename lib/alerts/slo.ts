import { WindowRing } from '../metrics/window-ring';
import { describe } from '../util/validate';
import { formatDuration } from './duration';
import { resolveBurn, type SloBurnRule, type SloIdentity } from './kinds/slo-burn';
import { BUDGET_RECORD, OBJECTIVE_RECORD, sliRecordName, type PromqlBuilder } from './promql-builder';
import { bagOf, NAME, RESERVED, RuleReader } from './rule-reader';
import { badAndAll, DURATION_METRIC, ratio, type RegistryReader } from './series';

/** One SLO with defaults resolved, and its burn-rate alerts. */
export interface ResolvedSlo extends SloIdentity {
  readonly periodMs: number;
  /** Every window a ratio is recorded for (burn-rate windows and the period), ascending. */
  readonly windowsMs: readonly number[];
  readonly alerts: readonly SloBurnRule[];
}

const SLO_KEYS = ['name', 'objective', 'route', 'latency', 'period', 'burnRates', 'labels', 'annotations'];

/** Default burn-rate alerts of the SRE Workbook: fast (page) and slow. */
export const DEFAULT_BURN_RATES = Object.freeze([
  Object.freeze({ long: '1h', short: '5m', factor: 14.4, severity: 'critical' }),
  Object.freeze({ long: '6h', short: '30m', factor: 6, severity: 'warning' }),
]);

/** Validate one SLO and build its burn-rate alerts; `buckets` (when known) must contain its latency bound. */
export function resolveSlo(spec: unknown, where: string, buckets?: readonly number[]): ResolvedSlo {
  const bag = bagOf(spec, where, 'SLO');
  const r: RuleReader = new RuleReader(bag, where, typeof bag.name === 'string' ? `SLO "${bag.name}"` : 'SLO');
  r.known(SLO_KEYS);
  if (typeof bag.name !== 'string' || !NAME.test(bag.name)) r.fail('name', `must match ${NAME}, got ${describe(bag.name)}`);
  const name: string = bag.name;
  const objective = r.number('objective', undefined, (n) => (n > 0 && n < 1 ? undefined : 'must be a ratio in (0, 1) such as 0.999'));
  const route = r.route();
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
    const at = `${where}.burnRates[${i}]`;
    const what = `SLO "${name}" burn rate`;
    const alert = resolveBurn(new RuleReader(bagOf(b, at, what), at, what), { name, objective, route, latency }, { labels, annotations });
    windows.add(alert.slo.burn.longMs).add(alert.slo.burn.shortMs);
    return alert;
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

/** Share of bad requests over `w` in PromQL: 5xx, or slower than `latency` seconds. */
function badRatio(p: PromqlBuilder, route: string | undefined, latency: number | undefined, w: string): string {
  const all = p.requests(route, w);
  if (latency !== undefined) {
    const good = p.over('rate', p.selector(`${DURATION_METRIC}_bucket`, route, { le: String(latency) }), w);
    return `1 - (${good} / ${all})`;
  }
  // Without any 5xx series the numerator would be empty: fall back to zero with the same labels.
  return `(${p.errors(route, w)} or ${all} * 0) / ${all}`;
}

/** The SLO's recording rules: its error ratio over every window, its objective, and its error budget remaining. */
export function sloRecordingRules(p: PromqlBuilder, slo: ResolvedSlo): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = slo.windowsMs.map((ms) => ({
    record: sliRecordName(ms),
    expr: badRatio(p, slo.route, slo.latency, formatDuration(ms)),
    labels: { slo: slo.name },
  }));
  rules.push({ record: OBJECTIVE_RECORD, expr: `vector(${slo.objective})`, labels: { slo: slo.name } });
  rules.push({
    record: BUDGET_RECORD,
    expr: `1 - (${sliRecordName(slo.periodMs)}{slo="${slo.name}"} / (1 - ${slo.objective}))`,
    labels: { slo: slo.name },
  });
  return rules;
}

/** Tracks an SLO's error budget remaining (1 = untouched, 0 = spent, negative = overspent) over its period. */
export class BudgetProbe {
  readonly #ring: WindowRing;

  /** Probe for `slo`. */
  constructor(readonly slo: ResolvedSlo) {
    this.#ring = new WindowRing(slo.periodMs, 720);
  }

  /** Remaining budget at `t`, or undefined without traffic yet. */
  async evaluate(t: number, reader: RegistryReader): Promise<number | undefined> {
    const sample = await badAndAll(reader, this.slo.route, this.slo.latency);
    const d = this.#ring.advance(t, sample) ?? { delta: sample };
    const r = ratio(d.delta);
    return Number.isNaN(r) ? undefined : 1 - r / (1 - this.slo.objective);
  }
}
