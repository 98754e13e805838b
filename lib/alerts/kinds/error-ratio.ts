import { formatDuration } from '../duration';
import { ratio, requestWindow, single } from '../series';
import { onRoute, type RuleOf, type SpecKindDef } from './kind';

/** `errorRatio`: 5xx / all requests of one route (or of every route) over a window, above a ratio. */
export interface ErrorRatioRule extends RuleOf<'errorRatio'> {
  readonly route: string | undefined;
  readonly windowMs: number;
}

/** The `errorRatio` kind. */
export const errorRatio: SpecKindDef<ErrorRatioRule> = {
  fields: ['route', 'window', 'threshold'],

  resolve: (r) => ({
    kind: 'errorRatio',
    route: r.route(),
    op: '>',
    windowMs: r.window('5m'),
    threshold: r.number('threshold', undefined, (n) => (n >= 0 && n <= 1 ? undefined : 'must be a ratio in [0, 1]')),
  }),

  summary: (rule) => `Error ratio${onRoute(rule.route) || ' across all routes'} is {{ $value | humanizePercentage }}`,

  evaluator(rule) {
    const window = requestWindow(rule.windowMs, rule.route);
    return async (t, reader) => {
      const d = await window(t, reader);
      return d ? single(rule, ratio(d.delta)) : [];
    };
  },

  promql(rule, p) {
    const w = formatDuration(rule.windowMs);
    return `${p.errors(rule.route, w)} / ${p.requests(rule.route, w)} ${rule.op} ${rule.threshold}`;
  },
};
