import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { Systeminformation } from 'systeminformation';

/** Cumulative CPU times of one logical CPU, in milliseconds (the shape of `os.cpus()[i].times`). */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly sys: number;
  readonly idle: number;
  readonly irq: number;
}

/** Physical memory figures, in bytes. */
export interface MemoryFigures {
  readonly total: number;
  readonly free: number;
  /** Memory available to new work without swapping (Linux `MemAvailable`). */
  readonly available: number;
  readonly buffers?: number;
  readonly cached?: number;
}

/** One mounted filesystem. */
export interface MountInfo {
  readonly mountpoint: string;
  readonly device: string;
  readonly fstype: string;
}

/** Capacity of one filesystem, in bytes. */
export interface FsFigures {
  readonly size: number;
  readonly used: number;
  /** Bytes an unprivileged user can still write. */
  readonly available: number;
}

/**
 * The sampler's probes; each one can be replaced through `system.probes`. Every probe may be sync or
 * async; a probe that throws or does not answer within `system.probeTimeoutMs` is counted in
 * `observability_system_probe_failures_total{probe}` and the others still report.
 */
export interface SystemProbes {
  /** Cumulative times per logical CPU. Default: `os.cpus()`. */
  readonly cpu?: () => readonly { readonly times: CpuTimes }[] | Promise<readonly { readonly times: CpuTimes }[]>;
  /** Memory figures. Default: `systeminformation.mem()`. */
  readonly memory?: () => MemoryFigures | Promise<MemoryFigures>;
  /** Mounted filesystems. Default: `systeminformation.fsSize()` (refreshed once a minute). */
  readonly mounts?: () => readonly MountInfo[] | Promise<readonly MountInfo[]>;
  /** Capacity of one mount. Default: `fs.promises.statfs()`. */
  readonly statfs?: (mountpoint: string) => FsFigures | Promise<FsFigures>;
  /** 1, 5 and 15 minute load averages. Default: `os.loadavg()`. */
  readonly load?: () => readonly number[] | Promise<readonly number[]>;
}

/** Every probe, defaults filled in. */
export type ProbeSet = { readonly [K in keyof SystemProbes]-?: NonNullable<SystemProbes[K]> };

/** Names of the probes, as they appear in the `probe` label. */
export const PROBE_NAMES = ['cpu', 'memory', 'mounts', 'statfs', 'load'] as const;

/** The two systeminformation functions the default probes call. */
interface SiFunctions {
  mem(): Promise<Systeminformation.MemData>;
  fsSize(): Promise<Systeminformation.FsSizeData[]>;
}

let siFunctions: SiFunctions | undefined;

/**
 * systeminformation's `mem()` and `fsSize()`, loaded on the first sample. Its package index loads
 * all of its twenty modules (about 30 ms and 10 MB at start-up); the two that hold these functions
 * take a third of that. Falls back to the index if a release moves them.
 */
function systeminformation(): SiFunctions {
  if (siFunctions !== undefined) return siFunctions;
  try {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded when the sampler first runs */
    const memory = require('systeminformation/lib/memory') as Partial<SiFunctions>;
    const filesystem = require('systeminformation/lib/filesystem') as Partial<SiFunctions>;
    if (typeof memory.mem === 'function' && typeof filesystem.fsSize === 'function') {
      siFunctions = { mem: memory.mem, fsSize: filesystem.fsSize };
      return siFunctions;
    }
  } catch {
    // a release without lib/memory.js or lib/filesystem.js: the package's index below
  }
  siFunctions = require('systeminformation') as SiFunctions;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return siFunctions;
}

/** The default probes: systeminformation and Node's own `os`/`fs`. */
export const DEFAULT_PROBES: ProbeSet = Object.freeze({
  cpu: () => os.cpus(),
  memory: async (): Promise<MemoryFigures> => {
    const m = await systeminformation().mem();
    return { total: m.total, free: m.free, available: m.available, buffers: m.buffers, cached: m.cached };
  },
  mounts: async (): Promise<readonly MountInfo[]> => {
    const list = await systeminformation().fsSize();
    return list.map((f) => ({ mountpoint: f.mount, device: f.fs, fstype: f.type }));
  },
  statfs: async (mountpoint: string): Promise<FsFigures> => {
    const s = await statfs(mountpoint);
    return { size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize };
  },
  load: () => os.loadavg(),
});

/** Merge user probes over the defaults. */
export function probeSet(custom: SystemProbes): ProbeSet {
  return Object.freeze({ ...DEFAULT_PROBES, ...custom }) as ProbeSet;
}

/** Overall and per-core utilisation (0–1) between two readings of cumulative CPU times. */
export function cpuUtilisation(
  prev: readonly { readonly times: CpuTimes }[] | undefined,
  now: readonly { readonly times: CpuTimes }[],
): { overall: number; perCore: number[] } {
  let busyAll = 0;
  let totalAll = 0;
  const perCore = now.map((c, i) => {
    const p = prev?.[i]?.times;
    const t = c.times;
    const d = (k: keyof CpuTimes): number => Math.max(0, t[k] - (p ? p[k] : 0));
    const total = d('user') + d('nice') + d('sys') + d('idle') + d('irq');
    const busy = total - d('idle');
    busyAll += busy;
    totalAll += total;
    return total > 0 ? clamp01(busy / total) : 0;
  });
  return { overall: totalAll > 0 ? clamp01(busyAll / totalAll) : 0, perCore };
}

/** Clamp into [0, 1]. */
export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
