import { readFile, stat, statfs } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
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
  /**
   * The device of the mountpoint (`stat().dev`), when the probe knows it: a change means the mount went
   * away and its path now reads the filesystem it was mounted on (then it is left out until the mount
   * list is read again). The default probe sets it.
   */
  readonly deviceId?: number;
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
  /**
   * Mounted filesystems (the sampler re-reads them once a minute). Default: on Linux, `/proc/self/mounts`
   * read asynchronously ({@link parseProcMounts}); elsewhere `systeminformation.fsSize()`.
   */
  readonly mounts?: () => readonly MountInfo[] | Promise<readonly MountInfo[]>;
  /** Capacity of one mount. Default: `fs.statfs()`. */
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

/** The systeminformation module that holds each of them. */
const SI_MODULES: { readonly [K in keyof SiFunctions]: string } = { mem: 'systeminformation/lib/memory', fsSize: 'systeminformation/lib/filesystem' };

const siLoaded: Partial<SiFunctions> = {};

/**
 * systeminformation's `mem()` or `fsSize()`, loaded when first called. Its package index loads all of
 * its twenty modules (about 30 ms and 10 MB at start-up); one module is a fraction of that. Falls back
 * to the index if a release moves the function.
 */
function systeminformation<K extends keyof SiFunctions>(name: K): SiFunctions[K] {
  const loaded = siLoaded[name];
  if (loaded !== undefined) return loaded;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded when a probe first runs */
  let fn: SiFunctions[K] | undefined;
  try {
    fn = (require(SI_MODULES[name]) as Partial<SiFunctions>)[name];
  } catch {
    // a release without that module: the package's index below
  }
  if (typeof fn !== 'function') fn = (require('systeminformation') as SiFunctions)[name];
  /* eslint-enable @typescript-eslint/no-require-imports */
  siLoaded[name] = fn;
  return fn;
}

/** `\040`-style octal escapes of `/proc/mounts` fields (space, tab, newline, backslash) decoded. */
function unescapeMountField(field: string): string {
  return field.includes('\\') ? field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))) : field;
}

/**
 * The mounts of a `/proc/<pid>/mounts` text, as `df` lists them: a mountpoint mounted over several
 * times is the last (visible) mount; a block device (`/dev/...`) mounted at several places (a
 * container's bind-mounted files) is listed once, at its shortest mountpoint.
 */
export function parseProcMounts(text: string): MountInfo[] {
  const byMountpoint = new Map<string, MountInfo>();
  for (const line of text.split('\n')) {
    const [device, mountpoint, fstype] = line.split(' ');
    if (device === undefined || mountpoint === undefined || fstype === undefined || fstype === '') continue;
    const m = { device: unescapeMountField(device), mountpoint: unescapeMountField(mountpoint), fstype };
    byMountpoint.delete(m.mountpoint);
    byMountpoint.set(m.mountpoint, m);
  }
  const byDevice = new Map<string, MountInfo>();
  const out: MountInfo[] = [];
  for (const m of byMountpoint.values()) {
    if (!m.device.startsWith('/')) {
      out.push(m);
      continue;
    }
    const seen = byDevice.get(m.device);
    if (seen === undefined || m.mountpoint.length < seen.mountpoint.length) byDevice.set(m.device, m);
  }
  return [...out, ...byDevice.values()];
}

/**
 * The mount list. On Linux, `/proc/self/mounts`, read asynchronously: systeminformation's `fsSize()`
 * runs `cat /proc/mounts` through `execSync` on every call, which stopped the event loop, and every
 * request in flight, for 4–26 ms once a minute, longer the larger the process ("System sampler" in
 * docs/health.md). Elsewhere, `fsSize()`.
 */
async function mountList(): Promise<readonly MountInfo[]> {
  if (process.platform === 'linux') return parseProcMounts(await readFileAsync('/proc/self/mounts', 'utf8'));
  const list = await systeminformation('fsSize')();
  return list.map((f) => ({ mountpoint: f.mount, device: f.fs, fstype: f.type }));
}

// Callback fs under promisify, not node:fs/promises: that module loads node:readline and ten more at start-up.
const readFileAsync = promisify(readFile);
const statfsAsync = promisify(statfs);
const statAsync = promisify(stat);

/** The default probes: systeminformation and Node's own `os`/`fs`. */
export const DEFAULT_PROBES: ProbeSet = Object.freeze({
  cpu: () => os.cpus(),
  memory: async (): Promise<MemoryFigures> => {
    const m = await systeminformation('mem')();
    return { total: m.total, free: m.free, available: m.available, buffers: m.buffers, cached: m.cached };
  },
  mounts: mountList,
  statfs: async (mountpoint: string): Promise<FsFigures> => {
    const [s, st] = await Promise.all([statfsAsync(mountpoint), statAsync(mountpoint)]);
    return { size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize, deviceId: st.dev };
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
