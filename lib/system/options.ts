import { readBool, readFunction, readNumber, readSection, type Bag, typeError } from '../util/validate';
import type { SystemProbes } from './probes';

/** Options of the background system sampler (`system` key of `createObservability()`). */
export interface SystemOptions {
  /** Run the sampler. Default `true`. */
  readonly enabled?: boolean;
  /** Milliseconds between the end of one sample and the start of the next. Default `15000` (one Prometheus scrape interval). */
  readonly intervalMs?: number;
  /** A probe that has not answered after this many milliseconds is abandoned and counted as failed. Default `2000`. */
  readonly probeTimeoutMs?: number;
  /**
   * Filesystem types that are never reported (pseudo and read-only image filesystems).
   * Default {@link DEFAULT_EXCLUDED_FS_TYPES}.
   */
  readonly excludeFsTypes?: readonly string[];
  /** Replace individual probes (tests make one throw or hang; other platforms can supply their own). */
  readonly probes?: SystemProbes;
}

/** System sampler options with defaults resolved. */
export interface ResolvedSystemOptions {
  readonly enabled: boolean;
  readonly intervalMs: number;
  readonly probeTimeoutMs: number;
  readonly excludeFsTypes: readonly string[];
  readonly probes: Readonly<SystemProbes>;
}

/** Pseudo filesystems skipped by default (node_exporter's list, plus tmpfs-like memory filesystems). */
export const DEFAULT_EXCLUDED_FS_TYPES: readonly string[] = Object.freeze([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devfs', 'devpts', 'devtmpfs',
  'fusectl', 'fuse.lxcfs', 'hugetlbfs', 'iso9660', 'mqueue', 'nsfs', 'proc', 'procfs', 'pstore', 'ramfs',
  'rpc_pipefs', 'securityfs', 'selinuxfs', 'squashfs', 'sysfs', 'tmpfs', 'tracefs',
]);

const SYSTEM_KEYS = ['enabled', 'intervalMs', 'probeTimeoutMs', 'excludeFsTypes', 'probes'] as const;
const PROBE_KEYS = ['cpu', 'memory', 'mounts', 'statfs', 'load'] as const;

/** Validate the `system` section and resolve its defaults. */
export function resolveSystemOptions(value: unknown): ResolvedSystemOptions {
  const s = readSection(value, 'system', SYSTEM_KEYS);
  const intervalMs = readNumber(s, 'intervalMs', 'system', 15_000, { min: 100, integer: true });
  const probeTimeoutMs = readNumber(s, 'probeTimeoutMs', 'system', Math.min(2000, intervalMs), { min: 1, integer: true });
  const p: Bag = readSection(s.probes, 'system.probes', PROBE_KEYS);
  const probes: SystemProbes = {};
  for (const key of PROBE_KEYS) {
    const fn = readFunction<never>(p, key, 'system.probes');
    if (fn !== undefined) (probes as Record<string, unknown>)[key] = fn;
  }
  let excludeFsTypes = DEFAULT_EXCLUDED_FS_TYPES;
  if (s.excludeFsTypes !== undefined) {
    if (!Array.isArray(s.excludeFsTypes)) typeError('system.excludeFsTypes', 'an array of strings', s.excludeFsTypes);
    s.excludeFsTypes.forEach((t: unknown, i: number) => {
      if (typeof t !== 'string') typeError(`system.excludeFsTypes[${i}]`, 'a string', t);
    });
    excludeFsTypes = Object.freeze([...(s.excludeFsTypes as string[])]);
  }
  return Object.freeze({
    enabled: readBool(s, 'enabled', 'system', true),
    intervalMs,
    probeTimeoutMs,
    excludeFsTypes,
    probes: Object.freeze(probes),
  });
}
