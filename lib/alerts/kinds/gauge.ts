import { Gauge } from '../../metrics/prom-client';
import { compare, matches, metricError, type SeriesResult } from '../series';
import type { RuleOf, SpecKindDef } from './kind';

/** `gauge`: the current value of any gauge, one alert per matching series. */
export interface GaugeRule extends RuleOf<'gauge'> {
  readonly metric: string;
  /** Equality matchers on the gauge's labels. */
  readonly matchers: Readonly<Record<string, string>>;
}

/** The `gauge` kind. */
export const gauge: SpecKindDef<GaugeRule> = {
  fields: ['metric', 'matchers', 'op', 'threshold'],

  resolve: (r) => ({
    kind: 'gauge',
    metric: r.metric(),
    matchers: r.matchers(),
    op: r.op(),
    threshold: r.number('threshold'),
  }),

  summary: (rule) => `${rule.metric} is {{ $value | humanize }}`,

  evaluator: (rule) => async (_t, reader) => {
    const out: SeriesResult[] = [];
    for (const v of (await reader.values(rule.metric)) ?? []) {
      if (!matches(v.labels, undefined, rule.matchers)) continue;
      const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
      out.push({ labels, value: v.value, active: compare(rule.op, v.value, rule.threshold) });
    }
    return out;
  },

  promql: (rule, p) => `${p.selector(rule.metric, undefined, rule.matchers)} ${rule.op} ${rule.threshold}`,

  check(rule, registry, lazyGauges) {
    const m = registry.getSingleMetric(rule.metric);
    if (m instanceof Gauge || (lazyGauges.includes(rule.metric) && !m)) return;
    throw metricError(rule, registry, Gauge, 'gauge');
  },
};
