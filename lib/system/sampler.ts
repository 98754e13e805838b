import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Counter, Gauge } from 'prom-client';
import type { MetricsCollector } from '../metrics/collector';
import type { ResolvedSystemOptions } from './options';
import { clamp01, cpuUtilisation, probeSet, PROBE_NAMES, type CpuTimes, type MountInfo, type ProbeSet } from './probes';
import { TIMED_OUT, withDeadline } from '../util/deadline';

/** One filesystem in a {@link SystemSnapshot}. */
export interface FilesystemSample extends MountInfo {
  readonly size: number;
  readonly used: number;
  readonly available: number;
  /** `used / (used + available)`, as `df` reports it (0–1). */
  readonly ratio: number;
}

/** The sampler's last readings; a section keeps its last good value when its probe fails. */
export interface SystemSnapshot {
  /** When the last sample finished. */
  readonly time: Date;
  readonly cpu?: { readonly overall: number; readonly perCore: readonly number[] };
  readonly memory?: { readonly total: number; readonly used: number; readonly available: number; readonly ratio: number };
  readonly filesystems: readonly FilesystemSample[];
  readonly load?: readonly number[];
  /** Event-loop delay over the last interval, in seconds. */
  readonly eventLoop: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** How often the mount list is re-read (statfs of each known mount runs every sample). */
const MOUNT_REFRESH_MS = 60_000;
/** The event-loop delay monitor's timer interval. */
const ELD_RESOLUTION_MS = 10;
const FS_LABELS = ['mountpoint', 'device', 'fstype'];

/** A gauge registered on first use: a probe that never answered shows no series rather than a 0. */
class LazyGauge {
  #gauge: Gauge<string> | undefined;
  constructor(
    private readonly metrics: MetricsCollector,
    private readonly name: string,
    private readonly help: string,
    private readonly labels: string[],
  ) {}

  /** Set the value (of the label set, when given). */
  set(labelsOrValue: Record<string, string> | number, value?: number): void {
    this.#gauge ??= this.metrics.gauge(this.name, this.help, this.labels);
    if (typeof labelsOrValue === 'number') this.#gauge.set(labelsOrValue);
    else this.#gauge.set(labelsOrValue, value as number);
  }

  /** Drop every label set. */
  reset(): void {
    this.#gauge?.reset();
  }
}

/** What the sampler needs from its instance. */
export interface SamplerParts {
  readonly metrics: MetricsCollector;
  readonly options: ResolvedSystemOptions;
  readonly reportError: (component: string, err: unknown) => void;
}

/**
 * Background sampler of CPU, memory, filesystems, load and event-loop delay into gauges on the
 * instance's registry. Runs on an unref'd timer, never overlaps itself, abandons a probe after
 * `probeTimeoutMs` and never calls a probe again while its previous call is still pending.
 * `/metrics` reads the gauges only: it never waits for a probe.
 */
export class SystemSampler {
  readonly #opts: ResolvedSystemOptions;
  readonly #probes: ProbeSet;
  readonly #reportError: SamplerParts['reportError'];
  readonly #eld: IntervalHistogram;
  readonly #pending = new Set<string>();
  readonly #failing = new Set<string>();
  readonly #g: Record<string, LazyGauge>;
  readonly #failures: Counter<string>;
  readonly #fsErrors: Counter<string>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #prevCpu: readonly { readonly times: CpuTimes }[] | undefined;
  #mounts: readonly MountInfo[] | undefined;
  #mountsAt = 0;
  #last: SystemSnapshot | undefined;
  /** The device each listed mountpoint was on when first read (the statfs probe's `deviceId`). */
  readonly #deviceOf = new Map<string, number>();

  /** Define the gauges; nothing runs until {@link SystemSampler.start}. */
  constructor(parts: SamplerParts) {
    this.#opts = parts.options;
    this.#probes = probeSet(parts.options.probes);
    this.#reportError = parts.reportError;
    this.#eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    const m = parts.metrics;
    const lazy = (name: string, help: string, labels: string[] = []): LazyGauge => new LazyGauge(m, name, help, labels);
    this.#g = {
      cpu: lazy('system_cpu_utilization_ratio', 'CPU utilisation over all logical CPUs since the previous sample (0-1).'),
      core: lazy('system_cpu_core_utilization_ratio', 'CPU utilisation of one logical CPU since the previous sample (0-1).', ['cpu']),
      load1: lazy('system_cpu_load_average_1m', 'Load average over 1 minute.'),
      load5: lazy('system_cpu_load_average_5m', 'Load average over 5 minutes.'),
      load15: lazy('system_cpu_load_average_15m', 'Load average over 15 minutes.'),
      memLimit: lazy('system_memory_limit_bytes', 'Total physical memory.'),
      memUsage: lazy('system_memory_usage_bytes', 'Physical memory by state (used = total - available).', ['state']),
      memRatio: lazy('system_memory_utilization_ratio', 'Physical memory utilisation by state (0-1).', ['state']),
      memAvail: lazy('system_linux_memory_available_bytes', 'Memory available for new work without swapping.'),
      fsLimit: lazy('system_filesystem_limit_bytes', 'Filesystem size.', FS_LABELS),
      fsUsage: lazy('system_filesystem_usage_bytes', 'Filesystem usage by state (free = available to unprivileged users).', [...FS_LABELS, 'state']),
      fsRatio: lazy('system_filesystem_utilization_ratio', 'Filesystem utilisation, used / (used + available), as df reports it (0-1).', FS_LABELS),
      eldP50: lazy('nodejs_eventloop_delay_p50_seconds', 'Event-loop delay, median over the last sample interval.'),
      eldP99: lazy('nodejs_eventloop_delay_p99_seconds', 'Event-loop delay, 99th percentile over the last sample interval.'),
      eldMax: lazy('nodejs_eventloop_delay_max_seconds', 'Event-loop delay, maximum over the last sample interval.'),
      duration: lazy('observability_system_sample_duration_seconds', 'Wall time the last system sample took.'),
      time: lazy('observability_system_sample_timestamp_seconds', 'Unix time the last system sample finished.'),
    };
    this.#failures = m.counter('observability_system_probe_failures_total', 'System probes that threw or timed out, by probe.', ['probe']);
    for (const probe of PROBE_NAMES) this.#failures.inc({ probe }, 0);
    this.#fsErrors = m.counter('observability_system_filesystem_errors_total', 'Mounts that could not be read (skipped in that sample), by mountpoint.', ['mountpoint']);
  }

  /** The last readings, or undefined before the first sample finished. */
  get last(): SystemSnapshot | undefined {
    return this.#last;
  }

  /** Take the first sample now and schedule the next ones. Idempotent. */
  start(): void {
    if (this.#running || this.#timer || this.#stopped) return;
    this.#eld.enable();
    this.#tick();
  }

  /** Stop sampling; a sample in progress is not awaited beyond its probe timeouts. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#eld.disable();
    await this.#running;
  }

  /** Run one sample now unless one is running (then wait for that one). For tests and benchmarks. */
  sample(): Promise<void> {
    this.#running ??= this.#sample().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #tick(): void {
    this.#timer = undefined;
    this.sample().then(
      () => this.#schedule(),
      (err: unknown) => {
        this.#reportError('system-sampler', err);
        this.#schedule();
      },
    );
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  async #sample(): Promise<void> {
    const t0 = performance.now();
    const prev = this.#last;
    const [cpus, memory, filesystems, load] = await Promise.all([
      this.#probe('cpu', () => this.#probes.cpu()),
      this.#probe('memory', () => this.#probes.memory()),
      this.#filesystems(),
      this.#probe('load', () => this.#probes.load()),
    ]);
    const g = this.#g;
    let cpu = prev?.cpu;
    if (cpus && cpus.length > 0) {
      cpu = cpuUtilisation(this.#prevCpu, cpus);
      this.#prevCpu = cpus;
      g.cpu.set(cpu.overall);
      cpu.perCore.forEach((v, i) => g.core.set({ cpu: String(i) }, v));
    }
    let mem = prev?.memory;
    if (memory && Number.isFinite(memory.total) && memory.total > 0) {
      const used = Math.max(0, memory.total - memory.available);
      mem = { total: memory.total, used, available: memory.available, ratio: clamp01(used / memory.total) };
      g.memLimit.set(memory.total);
      g.memAvail.set(memory.available);
      g.memUsage.set({ state: 'used' }, used);
      g.memUsage.set({ state: 'free' }, memory.free);
      if (memory.buffers !== undefined) g.memUsage.set({ state: 'buffers' }, memory.buffers);
      if (memory.cached !== undefined) g.memUsage.set({ state: 'cached' }, memory.cached);
      g.memRatio.set({ state: 'used' }, mem.ratio);
    }
    let fs = prev?.filesystems ?? [];
    if (filesystems) {
      fs = filesystems;
      g.fsLimit.reset();
      g.fsUsage.reset();
      g.fsRatio.reset();
      for (const f of fs) {
        const labels = { mountpoint: f.mountpoint, device: f.device, fstype: f.fstype };
        g.fsLimit.set(labels, f.size);
        g.fsUsage.set({ ...labels, state: 'used' }, f.used);
        g.fsUsage.set({ ...labels, state: 'free' }, f.available);
        g.fsUsage.set({ ...labels, state: 'reserved' }, Math.max(0, f.size - f.used - f.available));
        g.fsRatio.set(labels, f.ratio);
      }
    }
    let loadAvg = prev?.load;
    if (load && load.length >= 3) {
      loadAvg = load;
      g.load1.set(load[0] as number);
      g.load5.set(load[1] as number);
      g.load15.set(load[2] as number);
    }
    // Node records the whole time between the monitor's timer ticks: the delay is what exceeds its resolution.
    const delay = (ns: number): number => (this.#eld.count > 0 ? Math.max(0, ns - ELD_RESOLUTION_MS * 1e6) / 1e9 : 0);
    const eventLoop = { p50: delay(this.#eld.percentile(50)), p99: delay(this.#eld.percentile(99)), max: delay(this.#eld.max) };
    this.#eld.reset();
    g.eldP50.set(eventLoop.p50);
    g.eldP99.set(eventLoop.p99);
    g.eldMax.set(eventLoop.max);
    const time = new Date();
    g.duration.set((performance.now() - t0) / 1000);
    g.time.set(time.getTime() / 1000);
    this.#last = Object.freeze({ time, cpu, memory: mem, filesystems: fs, load: loadAvg, eventLoop });
  }

  /** Readable, non-pseudo mounts with their figures, or undefined when the mount list is unknown. */
  async #filesystems(): Promise<FilesystemSample[] | undefined> {
    const now = Date.now();
    if (!this.#mounts || now - this.#mountsAt >= MOUNT_REFRESH_MS) {
      const list = await this.#probe('mounts', () => this.#probes.mounts());
      if (list) {
        const excluded = new Set(this.#opts.excludeFsTypes);
        const seen = new Set<string>();
        this.#mounts = list.filter((m) => {
          if (excluded.has(m.fstype) || seen.has(m.mountpoint)) return false;
          seen.add(m.mountpoint);
          return true;
        });
        this.#mountsAt = now;
        for (const mp of this.#deviceOf.keys()) if (!seen.has(mp)) this.#deviceOf.delete(mp);
      }
    }
    const mounts = this.#mounts;
    if (!mounts) return undefined;
    const read = await Promise.all(
      mounts.map(async (m): Promise<FilesystemSample | undefined> => {
        const f = await this.#probe('statfs', () => this.#probes.statfs(m.mountpoint), m.mountpoint);
        if (!f) return undefined;
        if (f.deviceId !== undefined) {
          const known = this.#deviceOf.get(m.mountpoint);
          if (known === undefined) this.#deviceOf.set(m.mountpoint, f.deviceId);
          else if (known !== f.deviceId) {
            // Unmounted (or another filesystem mounted there): its path reads another filesystem now.
            this.#deviceOf.delete(m.mountpoint);
            this.#mountsAt = 0;
            return undefined;
          }
        }
        if (![f.size, f.used, f.available].every((v) => Number.isFinite(v) && v >= 0) || f.size === 0) {
          this.#fail('statfs', new Error(`mount ${m.mountpoint}: unusable figures`), m.mountpoint);
          return undefined;
        }
        const denom = f.used + f.available;
        return { ...m, size: f.size, used: f.used, available: f.available, ratio: denom > 0 ? clamp01(f.used / denom) : 0 };
      }),
    );
    return read.filter((f): f is FilesystemSample => f !== undefined);
  }

  /** Run one probe bounded by the probe timeout; undefined when it failed (counted). */
  async #probe<T>(name: string, fn: () => T | Promise<T>, mount?: string): Promise<T | undefined> {
    const key = mount === undefined ? name : `${name}:${mount}`;
    if (this.#pending.has(key)) {
      this.#fail(name, new Error(`${key} probe still pending from an earlier sample`), mount);
      return undefined;
    }
    this.#pending.add(key);
    const call = Promise.resolve().then(fn);
    const release = (): void => {
      this.#pending.delete(key);
    };
    call.then(release, release);
    try {
      const value = await withDeadline(call, this.#opts.probeTimeoutMs);
      if (value === TIMED_OUT) throw new Error(`${key} probe timed out after ${this.#opts.probeTimeoutMs} ms`);
      this.#failing.delete(key);
      return value;
    } catch (err) {
      this.#fail(name, err, mount);
      return undefined;
    }
  }

  /** Count a failure; report it once per failure streak so a dead probe does not flood warnings. */
  #fail(probe: string, err: unknown, mount?: string): void {
    this.#failures.inc({ probe });
    if (mount !== undefined) this.#fsErrors.inc({ mountpoint: mount });
    const key = mount === undefined ? probe : `${probe}:${mount}`;
    if (!this.#failing.has(key)) {
      this.#failing.add(key);
      this.#reportError(`system-probe:${probe}`, err);
    }
  }
}
