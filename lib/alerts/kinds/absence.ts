import { formatDuration } from '../duration';
import { DURATION_METRIC, requestWindow, single } from '../series';
import { onRoute, type RuleOf, type SpecKindDef } from './kind';

/** `absence`: no requests (of a route, or at all) during a window; the value is the request count (< 1). */
export interface AbsenceRule extends RuleOf<'absence'> {
  readonly route: string | undefined;
  readonly windowMs: number;
}

/** The `absence` kind. */
export const absence: SpecKindDef<AbsenceRule> = {
  fields: ['route', 'window'],

  resolve: (r) => ({ kind: 'absence', route: r.route(), op: '<', windowMs: r.window('10m'), threshold: 1 }),

  summary: (rule) => `No requests${onRoute(rule.route)} during the window`,

  evaluator(rule) {
    const window = requestWindow(rule.windowMs, rule.route);
    return async (t, reader) => {
      const d = await window(t, reader);
      return d && d.full ? single(rule, d.delta.get('all') ?? 0) : [];
    };
  },

  promql: (rule, p) => `(${p.over('increase', p.selector(`${DURATION_METRIC}_count`, rule.route), formatDuration(rule.windowMs))} or on() vector(0)) < 1`,
};
