import { histogramQuantile } from '../../metrics/histogram-math';
import { WindowRing } from '../../metrics/window-ring';
import { formatDuration } from '../duration';
import { addTo, DURATION_METRIC, matches, single, type RegistryReader } from '../series';
import { onRoute, type RuleOf, type SpecKindDef } from './kind';

/** `latency`: a quantile of the request duration histogram over a window, above some seconds. */
export interface LatencyRule extends RuleOf<'latency'> {
  readonly route: string | undefined;
  readonly windowMs: number;
  /** In (0, 1). */
  readonly quantile: number;
}

/** Cumulative bucket counts of `route`, by `le`. */
async function bucketSample(reader: RegistryReader, route: string | undefined): Promise<Map<string, number>> {
  const sample = new Map<string, number>();
  const h = await reader.histogram(DURATION_METRIC);
  if (h === undefined) return sample;
  for (const s of h.series) {
    if (!matches(s.labels, route, {})) continue;
    let cumulative = 0;
    h.bounds.forEach((le, i) => {
      cumulative += s.buckets[i] ?? 0;
      addTo(sample, String(le), cumulative);
    });
    addTo(sample, '+Inf', s.count);
  }
  return sample;
}

/** The `latency` kind. */
export const latency: SpecKindDef<LatencyRule> = {
  fields: ['quantile', 'route', 'window', 'threshold'],

  resolve: (r) => ({
    kind: 'latency',
    route: r.route(),
    op: '>',
    quantile: r.number('quantile', 0.99, (n) => (n > 0 && n < 1 ? undefined : 'must be in (0, 1)')),
    windowMs: r.window('5m'),
    threshold: r.number('threshold', undefined, (n) => (n > 0 ? undefined : 'must be seconds > 0')),
  }),

  summary: (rule) => `p${Math.round(rule.quantile * 1000) / 10} latency${onRoute(rule.route)} is {{ $value | humanizeDuration }}`,

  evaluator(rule) {
    const ring = new WindowRing(rule.windowMs);
    return async (t, reader) => {
      const d = ring.advance(t, await bucketSample(reader, rule.route));
      if (!d) return [];
      const buckets = [...d.delta].map(([le, count]) => ({ le: le === '+Inf' ? Infinity : Number(le), count }));
      return single(rule, histogramQuantile(rule.quantile, buckets));
    };
  },

  promql(rule, p) {
    const buckets = p.over('rate', p.selector(`${DURATION_METRIC}_bucket`, rule.route), formatDuration(rule.windowMs), ['le']);
    return `histogram_quantile(${rule.quantile}, ${buckets}) ${rule.op} ${rule.threshold}`;
  },
};
