import type { SystemSnapshot } from '../system/sampler';
import type { CheckOutcome, HealthStatus } from './health';
import type { HealthChecks } from './checks';
import type { ResolvedHealthOptions, Threshold } from './options';

/** Status of `value` against a warn/fail threshold. */
export function levelOf(value: number, t: Threshold): HealthStatus {
  if (value >= t.fail) return 'fail';
  if (value >= t.warn) return 'warn';
  return 'pass';
}

const round = (v: number, digits = 4): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Before the first sample finished (a few ms after start) there is nothing to judge: pass, and say so. */
function noSample(): CheckOutcome {
  return { status: 'pass', output: 'waiting for the first system sample' };
}

/**
 * Register the built-in checks `eventloop:delay`, `memory:utilization` and `disk:utilization`.
 * They read the system sampler's last sample (no probe runs on a health request).
 */
export function addBuiltinChecks(health: HealthChecks, last: () => SystemSnapshot | undefined, options: ResolvedHealthOptions): void {
  const t = options.thresholds;
  const common = { critical: options.builtinsCritical, ttl: 0, componentType: 'system' };
  health.addCheck(
    'eventloop:delay',
    (): CheckOutcome => {
      const s = last();
      if (!s) return noSample();
      const ms = round(s.eventLoop.p99 * 1000, 3);
      const status = levelOf(ms, t.eventLoopDelayMs);
      return {
        status,
        observedValue: ms,
        observedUnit: 'ms',
        ...(status !== 'pass' ? { output: `event-loop delay p99 ${ms} ms (warn ${t.eventLoopDelayMs.warn}, fail ${t.eventLoopDelayMs.fail})` } : {}),
      };
    },
    common,
  );
  health.addCheck(
    'memory:utilization',
    (): CheckOutcome => {
      const s = last();
      if (!s) return noSample();
      const m = s.memory;
      // Sampled, but the memory probe has not answered (it failed or timed out; counted by probe).
      if (!m) return { status: 'warn', output: 'memory not read: the memory probe failed (observability_system_probe_failures_total{probe="memory"})' };
      const status = levelOf(m.ratio, t.memoryRatio);
      return {
        status,
        observedValue: round(m.ratio),
        observedUnit: 'ratio',
        ...(status !== 'pass' ? { output: `memory ${round(m.ratio * 100, 1)}% used (warn ${t.memoryRatio.warn}, fail ${t.memoryRatio.fail})` } : {}),
      };
    },
    common,
  );
  health.addCheck(
    'disk:utilization',
    (): CheckOutcome[] => {
      const s = last();
      if (!s) return [noSample()];
      if (s.filesystems.length === 0) return [{ status: 'pass', output: 'no filesystem readable' }];
      return s.filesystems.map((f) => {
        const status = levelOf(f.ratio, t.diskRatio);
        return {
          componentId: f.mountpoint,
          status,
          observedValue: round(f.ratio),
          observedUnit: 'ratio',
          ...(status !== 'pass' ? { output: `${f.mountpoint} ${round(f.ratio * 100, 1)}% used (warn ${t.diskRatio.warn}, fail ${t.diskRatio.fail})` } : {}),
        };
      });
    },
    common,
  );
}
