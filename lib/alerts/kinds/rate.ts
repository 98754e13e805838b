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
 * The rule's counter as one ever-growing total per group (keyed by the JSON of its `by` label values):
 * each series adds its own increase since the previous evaluation (its whole value when it is new or
 * was reset), as Prometheus's `rate()` takes increases per series before `sum`. A series that goes away
 * (`counter.remove()`) adds nothing more, where a drop of the group's sum would read as a reset.
 * `last` holds each series' previous value (one number per series, whatever the window).
 */
async function groupTotals(rule: RateRule, reader: RegistryReader, last: Map<string, number>, totals: Map<string, number>): Promise<Map<string, number>> {
  const seen = new Set<string>();
  for (const v of (await reader.values(rule.metric)) ?? []) {
    if (!matches(v.labels, undefined, rule.matchers)) continue;
    // prom-client keeps one labels object per series: its JSON is the same at every read.
    const series = JSON.stringify(v.labels);
    seen.add(series);
    const before = last.get(series);
    last.set(series, v.value);
    addTo(totals, JSON.stringify(rule.by.map((l) => String(v.labels[l] ?? ''))), before === undefined || v.value < before ? v.value : v.value - before);
  }
  for (const series of last.keys()) if (!seen.has(series)) last.delete(series);
  return new Map(totals);
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
    const last = new Map<string, number>();
    const totals = new Map<string, number>();
    return async (t, reader) => {
      const d = ring.advance(t, await groupTotals(rule, reader, last, totals));
      if (!d || d.spanMs <= 0) return [];
      return [...d.delta].map(([key, inc]) => {
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
