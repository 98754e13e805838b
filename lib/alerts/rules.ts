import { describe } from '../util/validate';
import { specKind, SPEC_KIND_NAMES, type SpecRule } from './kinds';
import { bagOf, NAME, RESERVED, RuleReader } from './rule-reader';

export { RuleError } from './rule-reader';
export type { ResolvedRule, RuleKind } from './kinds';
export { resolveSlo, type ResolvedSlo } from './slo';

const COMMON = ['name', 'kind', 'for', 'keepFiringFor', 'severity', 'labels', 'annotations'];

/**
 * Validate one alerting rule; `where` locates it (`alerts.rules[2]`). The name and kind come
 * first, then the kind's own fields, then labels, annotations, `for`, `keepFiringFor` and
 * `severity`: the first bad field is the one an error names.
 */
export function resolveRule(spec: unknown, where: string): SpecRule {
  const bag = bagOf(spec, where, 'alert rule');
  const r: RuleReader = new RuleReader(bag, where, typeof bag.name === 'string' ? `alert rule "${bag.name}"` : 'alert rule');
  if (typeof bag.name !== 'string' || !NAME.test(bag.name)) r.fail('name', `must match ${NAME} (it becomes the alertname), got ${describe(bag.name)}`);
  const name = bag.name;
  const kindName = bag.kind;
  if (typeof kindName !== 'string' || !SPEC_KIND_NAMES.includes(kindName)) r.fail('kind', `must be one of ${SPEC_KIND_NAMES.join(', ')}, got ${describe(kindName)}`);
  const kind = specKind(kindName);
  r.known([...COMMON, ...kind.fields]);
  const fields = kind.resolve(r);
  const labels = r.record('labels', false);
  for (const k of RESERVED) if (k in labels) r.fail(`labels.${k}`, 'is reserved (set severity with the "severity" field)');
  const route = 'route' in fields ? fields.route : undefined;
  if (route !== undefined) labels.route = route;
  const annotations = r.record('annotations', true);
  annotations.summary ??= kind.summary(fields);
  return Object.freeze({
    ...fields,
    name,
    forMs: r.duration('for', '0s'),
    keepFiringForMs: r.duration('keepFiringFor', '0s'),
    severity: r.safe('severity', bag.severity) ?? 'warning',
    labels: Object.freeze(labels),
    annotations: Object.freeze(annotations),
  }) as SpecRule;
}
