import type { AnyRegistry } from '../../metrics/registry';
import type { PromqlBuilder } from '../promql-builder';
import type { RuleReader } from '../rule-reader';
import type { RegistryReader, SeriesResult } from '../series';
import type { CompareOp } from '../types';

/** Fields every resolved rule has, read by the common part of rule resolution. */
export interface CommonFields {
  readonly name: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly severity: string;
  /** Labels of the alert besides `alertname` and `severity` (includes `route` and `slo`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A resolved rule of one kind: the common fields, the comparison, and the kind's own fields. */
export interface RuleOf<K extends string> extends CommonFields {
  readonly kind: K;
  /** How the value is compared with `threshold` (what "active" means). */
  readonly op: CompareOp;
  readonly threshold: number;
}

/** What a kind resolves from a rule spec itself: everything but the common fields (per variant of a union). */
export type KindFields<R extends RuleOf<string>> = R extends RuleOf<string> ? Omit<R, keyof CommonFields> : never;

/** One rule's in-process evaluation at `t` (ms) over the registry; keeps the rule's windows between calls. */
export type Evaluate = (t: number, reader: RegistryReader) => Promise<SeriesResult[]>;

/** A kind of alerting rule: its in-process evaluation and its PromQL, side by side. */
export interface RuleKindDef<R extends RuleOf<string>> {
  /** A new evaluator of `rule`, owning the rule's windows. */
  evaluator(rule: R): Evaluate;
  /** The rule's alerting expression in PromQL (Prometheus rule export). */
  promql(rule: R, p: PromqlBuilder): string;
  /** Throw a RuleError when the rule names a metric the registry lacks; `lazyGauges` appear later. */
  check?(rule: R, registry: AnyRegistry, lazyGauges: readonly string[]): void;
}

/** A kind users write in `alerts.rules`: it also reads and validates its own spec fields. */
export interface SpecKindDef<R extends RuleOf<string>> extends RuleKindDef<R> {
  /** The kind's spec fields besides the common ones (listed in unknown-field errors). */
  readonly fields: readonly string[];
  /** Read the kind's own fields (before the common ones, so the first bad field is named). */
  resolve(r: RuleReader): KindFields<R>;
  /** Default `summary` annotation. */
  summary(rule: KindFields<R>): string;
}

/** ` on route <route>`, or '' for every route (default summaries). */
export function onRoute(route: string | undefined): string {
  return route ? ` on route ${route}` : '';
}
