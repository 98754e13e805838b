import { Counter, Histogram } from '../../metrics/prom-client';
import { WindowRing } from '../../metrics/window-ring';
import { formatDuration } from '../duration';
import { addTo, compare, matches, metricError, type RegistryReader } from '../series';
import type { RuleOf, SpecKindDef } from './kind';

/** `rate`: the per-second rate of any counter over a window, summed (optionally by some labels). */
export interface RateRule extends RuleOf<'rate'> {
  readonly metric: string;
  readonly matchers: Readonly<Record<string, string>>;
  /** Labels kept when summing (one alert per group); empty: sum everything. */
  readonly by: readonly string[];
  readonly windowMs: number;
}

/**
 * The rule's counter, one value per series (keyed by the JSON of its `by` label values, then of all its
 * labels): increases are taken per series, as Prometheus's `rate()` does before `sum`, so that a series
 * that goes away (`counter.remove()`) is not read as a reset of the group's sum.
 */
async function seriesSample(rule: RateRule, reader: RegistryReader): Promise<Map<string, number>> {
  const sample = new Map<string, number>();
  for (const v of (await reader.values(rule.metric)) ?? []) {
    if (!matches(v.labels, undefined, rule.matchers)) continue;
    const labels = v.labels as Record<string, unknown>;
    const all = Object.keys(labels)
      .sort()
      .map((l) => [l, String(labels[l])]);
    sample.set(`${JSON.stringify(rule.by.map((l) => String(labels[l] ?? '')))}\n${JSON.stringify(all)}`, v.value);
  }
  return sample;
}

/** Per-series increases summed by group (the part of each key before its newline). */
function byGroup(perSeries: ReadonlyMap<string, number>): Map<string, number> {
  const groups = new Map<string, number>();
  for (const [key, inc] of perSeries) addTo(groups, key.slice(0, key.indexOf('\n')), inc);
  return groups;
}

/** The `rate` kind. */
export const rate: SpecKindDef<RateRule> = {
  fields: ['metric', 'matchers', 'by', 'window', 'op', 'threshold'],

  resolve: (r) => ({
    kind: 'rate',
    metric: r.metric(),
    matchers: r.matchers(),
    by: r.by(),
    op: r.op(),
    windowMs: r.window('5m'),
    threshold: r.number('threshold'),
  }),

  summary: (rule) => `${rule.metric} rate is {{ $value | humanize }}/s`,

  evaluator(rule) {
    const ring = new WindowRing(rule.windowMs);
    return async (t, reader) => {
      const d = ring.advance(t, await seriesSample(rule, reader));
      if (!d || d.spanMs <= 0) return [];
      return [...byGroup(d.delta)].map(([key, inc]) => {
        const values = JSON.parse(key) as string[];
        const value = inc / (d.spanMs / 1000);
        return { labels: Object.fromEntries(rule.by.map((l, i) => [l, values[i] as string])), value, active: compare(rule.op, value, rule.threshold) };
      });
    };
  },

  promql: (rule, p) => `${p.over('rate', p.selector(rule.metric, undefined, rule.matchers), formatDuration(rule.windowMs), rule.by)} ${rule.op} ${rule.threshold}`,

  check(rule, registry) {
    const suffix = /^(.*)_(count|sum)$/.exec(rule.metric);
    const hist = suffix ? registry.getSingleMetric(suffix[1] as string) : undefined;
    if (registry.getSingleMetric(rule.metric) instanceof Counter || hist instanceof Histogram) return;
    throw metricError(rule, registry, Counter, 'counter (or histogram _count/_sum)');
  },
};
