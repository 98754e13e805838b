import { WindowRing } from '../../metrics/window-ring';
import { formatDuration } from '../duration';
import { sliRecordName } from '../promql-builder';
import type { RuleReader } from '../rule-reader';
import { badAndAll, compare, ratio, single } from '../series';
import type { RuleKindDef, RuleOf } from './kind';

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

/**
 * `sloBurn`: one multi-window burn-rate alert of an SLO (generated from `alerts.slos`, never
 * written as a rule): active when the bad ratio over both the long and the short window is
 * above `factor × (1 − objective)` (the `threshold`). The value is the long window's ratio.
 */
export interface SloBurnRule extends RuleOf<'sloBurn'> {
  readonly route: string | undefined;
  readonly slo: SloRef;
}

/** What defines an SLO's good and bad requests (and names its alerts). */
export interface SloIdentity {
  /** SLO name (`slo` label; alerts are named `<name>ErrorBudgetBurn`). */
  readonly name: string;
  readonly objective: number;
  readonly route: string | undefined;
  /** Good = finished within this many seconds; undefined: good = not 5xx. */
  readonly latency: number | undefined;
}

/** Labels and annotations every burn-rate alert of an SLO carries. */
export interface SloDecor {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

const SUMMARY = 'SLO {{ $labels.slo }} error budget burning: error ratio {{ $value | humanizePercentage }}';

/** Read one burn rate of an SLO (fields `long`, `short`, `factor`, `severity`, `for`) into its alert. */
export function resolveBurn(br: RuleReader, slo: SloIdentity, decor: SloDecor): SloBurnRule {
  br.known(['long', 'short', 'factor', 'severity', 'for']);
  const longMs = br.duration('long', undefined);
  const shortMs = br.duration('short', undefined);
  if (shortMs >= longMs) br.fail('short', 'must be shorter than "long"');
  const factor = br.number('factor', undefined, (n) => (n > 0 ? undefined : 'must be > 0'));
  const labels: Record<string, string> = { ...decor.labels, slo: slo.name, long_window: formatDuration(longMs) };
  if (slo.route !== undefined) labels.route = slo.route;
  return Object.freeze({
    kind: 'sloBurn',
    name: `${slo.name}ErrorBudgetBurn`,
    forMs: br.duration('for', '0s'),
    keepFiringForMs: 0,
    severity: br.safe('severity', br.bag.severity, false) as string,
    labels: Object.freeze(labels),
    annotations: Object.freeze({ summary: SUMMARY, ...decor.annotations }),
    route: slo.route,
    op: '>',
    threshold: factor * (1 - slo.objective),
    slo: Object.freeze({ name: slo.name, objective: slo.objective, latency: slo.latency, burn: Object.freeze({ longMs, shortMs, factor }) }),
  });
}

/** The `sloBurn` kind. */
export const sloBurn: RuleKindDef<SloBurnRule> = {
  evaluator(rule) {
    const long = new WindowRing(rule.slo.burn.longMs);
    const short = new WindowRing(rule.slo.burn.shortMs);
    return async (t, reader) => {
      const sample = await badAndAll(reader, rule.route, rule.slo.latency);
      const l = long.advance(t, sample);
      const s = short.advance(t, sample);
      if (!l || !s) return [];
      const value = ratio(l.delta);
      return single(rule, value, compare('>', value, rule.threshold) && compare('>', ratio(s.delta), rule.threshold));
    };
  },

  promql(rule) {
    const { slo } = rule;
    const thr = `(${slo.burn.factor} * (1 - ${slo.objective}))`;
    const sel = (ms: number): string => `${sliRecordName(ms)}{slo="${slo.name}"}`;
    return `${sel(slo.burn.longMs)} > ${thr} and ${sel(slo.burn.shortMs)} > ${thr}`;
  },
};
