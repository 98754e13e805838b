import type { AnyRegistry } from '../metrics/registry';

/** One sparkline: a gauge (or counter rate) sampled over the last minutes. */
export interface SeriesView {
  readonly id: string;
  readonly label: string;
  /** `bytes`, `seconds`, `percent`, `ratio` or `''`. */
  readonly unit: string;
  /** `[epochMs, value]` pairs, oldest first. */
  readonly points: readonly (readonly [number, number])[];
}

interface Probe {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  /** Metric names to read, the first one present wins (the system sampler's, else prom-client's). */
  readonly metrics: readonly string[];
  /** Only the series with these labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** One series per value of this label (`disk /`, `disk /data`), at most {@link MAX_PER_PROBE}. */
  readonly perLabel?: string;
  /** `rate`: per-second rate of a counter, times `scale`. */
  readonly mode: 'value' | 'rate';
  readonly scale: number;
  /** prom-client sets some default gauges in a sibling's collect(): read that one first. */
  readonly trigger?: string;
}

const MAX_PER_PROBE = 16;

/**
 * Samples what people act on into fixed-size rings for the dashboard's sparklines: process and host
 * CPU, process and host memory, event-loop delay, and disk use per mount (the host series need the
 * system sampler). Everything else stays in `/metrics`. Shows what is there.
 */
export class SystemHistory {
  readonly #registry: AnyRegistry;
  readonly #points: number;
  readonly #probes: readonly Probe[];
  readonly #series = new Map<string, { probe: Probe; points: [number, number][]; last?: [number, number] }>();

  /** `prefix`: the prefix of prom-client's default metrics (`metrics.prefix`). */
  constructor(registry: AnyRegistry, prefix: string, points: number) {
    this.#registry = registry;
    this.#points = points;
    const p = prefix;
    this.#probes = [
      { id: 'cpu', label: 'process CPU', unit: 'percent', metrics: [`${p}process_cpu_seconds_total`], mode: 'rate', scale: 100, trigger: `${p}process_cpu_user_seconds_total` },
      { id: 'host-cpu', label: 'host CPU', unit: 'ratio', metrics: ['system_cpu_utilization_ratio'], mode: 'value', scale: 1 },
      { id: 'rss', label: 'process memory (RSS)', unit: 'bytes', metrics: [`${p}process_resident_memory_bytes`], mode: 'value', scale: 1 },
      { id: 'host-memory', label: 'host memory used', unit: 'ratio', metrics: ['system_memory_utilization_ratio'], labels: { state: 'used' }, mode: 'value', scale: 1 },
      {
        id: 'eld',
        label: 'event-loop delay p99',
        unit: 'seconds',
        metrics: ['nodejs_eventloop_delay_p99_seconds', `${p}nodejs_eventloop_lag_p99_seconds`],
        mode: 'value',
        scale: 1,
        trigger: `${p}nodejs_eventloop_lag_seconds`,
      },
      { id: 'disk', label: 'disk', unit: 'ratio', metrics: ['system_filesystem_utilization_ratio'], perLabel: 'mountpoint', mode: 'value', scale: 1 },
    ];
  }

  /** Take one sample of every probe. */
  async sample(now = Date.now()): Promise<void> {
    for (const probe of this.#probes) {
      const metric = probe.metrics.map((name) => this.#registry.getSingleMetric(name)).find((m) => m !== undefined);
      if (!metric) continue;
      const trigger = probe.trigger ? this.#registry.getSingleMetric(probe.trigger) : undefined;
      if (trigger) await trigger.get();
      const data = await metric.get();
      const values = data.values.filter((v) => Object.entries(probe.labels ?? {}).every(([k, want]) => String(v.labels[k]) === want));
      if (values.length === 0) continue;
      if (probe.perLabel === undefined) {
        this.#record(probe, now, (values[0] as { value: number }).value);
        continue;
      }
      for (const v of values.slice(0, MAX_PER_PROBE)) {
        const which = String(v.labels[probe.perLabel] ?? '');
        this.#record({ ...probe, id: `${probe.id}{${which}}`, label: `${probe.label} ${which}` }, now, v.value);
      }
    }
  }

  #record(probe: Probe, now: number, raw: number): void {
    let s = this.#series.get(probe.id);
    if (!s) {
      s = { probe, points: [] };
      this.#series.set(probe.id, s);
    }
    let value = raw;
    if (probe.mode === 'rate') {
      const last = s.last;
      s.last = [now, raw];
      if (!last || now <= last[0]) return;
      value = (Math.max(raw - last[1], 0) / ((now - last[0]) / 1000)) * probe.scale;
    }
    s.points.push([now, value]);
    if (s.points.length > this.#points) s.points.shift();
  }

  /** Every series with at least one point, in the order of the probes. */
  views(): SeriesView[] {
    // In the probes' order (a host gauge may get its first value after the process ones), mounts by name.
    const rank = (id: string): number => this.#probes.findIndex((p) => id === p.id || id.startsWith(`${p.id}{`));
    const out: SeriesView[] = [];
    for (const { probe, points } of this.#series.values()) {
      if (points.length > 0) out.push({ id: probe.id, label: probe.label, unit: probe.unit, points: [...points] });
    }
    return out.sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
  }
}
