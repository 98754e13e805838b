import type { AnyRegistry } from '../metrics/registry';
import { kindOf, type ResolvedRule } from './kinds';
import type { Evaluate } from './kinds/kind';
import type { RegistryReader, SeriesResult } from './series';

/**
 * Gauges the system sampler registers on its first sample (lazily), so they are not on the
 * registry yet when the rules are checked at construction.
 */
export const SYSTEM_GAUGES: readonly string[] = Object.freeze([
  'system_cpu_utilization_ratio',
  'system_cpu_core_utilization_ratio',
  'system_cpu_load_average_1m',
  'system_cpu_load_average_5m',
  'system_cpu_load_average_15m',
  'system_memory_limit_bytes',
  'system_memory_usage_bytes',
  'system_memory_utilization_ratio',
  'system_linux_memory_available_bytes',
  'system_filesystem_limit_bytes',
  'system_filesystem_usage_bytes',
  'system_filesystem_utilization_ratio',
  'nodejs_eventloop_delay_p50_seconds',
  'nodejs_eventloop_delay_p99_seconds',
  'nodejs_eventloop_delay_max_seconds',
]);

/**
 * Throw a RuleError when a rule names a metric the registry does not have (or of the wrong type).
 * `lazyGauges` are gauges known to appear later (the system sampler's).
 */
export function checkMetrics(rules: readonly ResolvedRule[], registry: AnyRegistry, lazyGauges: readonly string[] = []): void {
  for (const r of rules) kindOf(r).check?.(r, registry, lazyGauges);
}

/** Computes one rule's series at each evaluation (the rule's kind keeps its windows). */
export class RuleProbe {
  readonly #evaluate: Evaluate;

  /** Probe for `rule`. */
  constructor(readonly rule: ResolvedRule) {
    this.#evaluate = kindOf(rule).evaluator(rule);
  }

  /** Evaluate at `t` (ms since epoch). */
  evaluate(t: number, reader: RegistryReader): Promise<SeriesResult[]> {
    return this.#evaluate(t, reader);
  }
}
