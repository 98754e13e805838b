/**
 * The registry of alert rule kinds. Each kind lives in its own file with, side by side, the
 * resolution of its options, its in-process evaluation and its PromQL.
 */
import { absence, type AbsenceRule } from './absence';
import { errorRatio, type ErrorRatioRule } from './error-ratio';
import { gauge, type GaugeRule } from './gauge';
import type { RuleKindDef, SpecKindDef } from './kind';
import { latency, type LatencyRule } from './latency';
import { rate, type RateRule } from './rate';
import { sloBurn, type SloBurnRule } from './slo-burn';

/** One alerting rule with defaults resolved: one variant per kind, told apart by `kind`. */
export type ResolvedRule = ErrorRatioRule | LatencyRule | GaugeRule | RateRule | AbsenceRule | SloBurnRule;

/** Kinds of resolved rules (`sloBurn` is generated from an SLO). */
export type RuleKind = ResolvedRule['kind'];

/** A rule of a kind users write in `alerts.rules` (every kind but `sloBurn`). */
export type SpecRule = Exclude<ResolvedRule, SloBurnRule>;

type RuleOfKind<K extends RuleKind> = Extract<ResolvedRule, { readonly kind: K }>;

/** Kinds users write in `alerts.rules`, in the order errors list them. */
const SPEC_KINDS: { readonly [K in SpecRule['kind']]: SpecKindDef<RuleOfKind<K>> } = { errorRatio, latency, gauge, rate, absence };

const KINDS: { readonly [K in RuleKind]: RuleKindDef<RuleOfKind<K>> } = { ...SPEC_KINDS, sloBurn };

/** Names of the kinds a rule spec may have. */
export const SPEC_KIND_NAMES: readonly string[] = Object.freeze(Object.keys(SPEC_KINDS));

/** The kind a rule spec names (one of {@link SPEC_KIND_NAMES}). */
export function specKind(name: string): SpecKindDef<SpecRule> {
  return SPEC_KINDS[name as SpecRule['kind']] as unknown as SpecKindDef<SpecRule>;
}

/** The kind of a resolved rule. */
export function kindOf<R extends ResolvedRule>(rule: R): RuleKindDef<R> {
  return KINDS[rule.kind] as unknown as RuleKindDef<R>;
}

export type { AbsenceRule, ErrorRatioRule, GaugeRule, LatencyRule, RateRule, SloBurnRule };
