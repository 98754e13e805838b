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
  readonly metric: string;
  readonly labels: Readonly<Record<string, string | number>> | undefined;
  /** `rate`: per-second rate of a counter, times `scale`. */
  readonly mode: 'value' | 'rate';
  readonly scale: number;
  /** prom-client sets some default gauges in a sibling's collect(): read that one first. */
  readonly trigger?: string;
}

const MAX_DISCOVERED = 16;

function unitOf(name: string): string {
  if (name.endsWith('_bytes')) return 'bytes';
  if (name.endsWith('_seconds')) return 'seconds';
  if (name.endsWith('_percent')) return 'percent';
  if (name.endsWith('_ratio') || name.endsWith('_utilization')) return 'ratio';
  return '';
}

/**
 * Samples a few process gauges and every `system_*` gauge of the registry (the system sampler's,
 * when it is on) into fixed-size rings for the dashboard's sparklines. Shows what is there.
 */
export class SystemHistory {
  readonly #registry: AnyRegistry;
  readonly #prefix: string;
  readonly #points: number;
  readonly #series = new Map<string, { probe: Probe; points: [number, number][]; last?: [number, number] }>();

  /** `prefix`: the prefix of prom-client's default metrics (`metrics.prefix`). */
  constructor(registry: AnyRegistry, prefix: string, points: number) {
    this.#registry = registry;
    this.#prefix = prefix;
    this.#points = points;
  }

  #probes(): Probe[] {
    const p = this.#prefix;
    const probes: Probe[] = [
      { id: 'cpu', label: 'process CPU', unit: 'percent', metric: `${p}process_cpu_seconds_total`, labels: undefined, mode: 'rate', scale: 100, trigger: `${p}process_cpu_user_seconds_total` },
      { id: 'rss', label: 'resident memory', unit: 'bytes', metric: `${p}process_resident_memory_bytes`, labels: undefined, mode: 'value', scale: 1 },
      { id: 'heap', label: 'heap used', unit: 'bytes', metric: `${p}nodejs_heap_size_used_bytes`, labels: undefined, mode: 'value', scale: 1, trigger: `${p}nodejs_heap_size_total_bytes` },
      { id: 'lag', label: 'event loop lag p99', unit: 'seconds', metric: `${p}nodejs_eventloop_lag_p99_seconds`, labels: undefined, mode: 'value', scale: 1, trigger: `${p}nodejs_eventloop_lag_seconds` },
      { id: 'active', label: 'requests in flight', unit: '', metric: 'http_server_active_requests', labels: undefined, mode: 'value', scale: 1 },
    ];
    let found = 0;
    for (const m of this.#registry.getMetricsAsArray()) {
      const name = (m as unknown as { name: string }).name;
      const type = (m as unknown as { type?: string }).type;
      if (!name.startsWith('system_') || type !== 'gauge' || found >= MAX_DISCOVERED) continue;
      probes.push({ id: name, label: name.replace(/^system_/, '').replace(/_/g, ' '), unit: unitOf(name), metric: name, labels: undefined, mode: 'value', scale: 1 });
      found++;
    }
    return probes;
  }

  /** Take one sample of every probe. */
  async sample(now = Date.now()): Promise<void> {
    for (const probe of this.#probes()) {
      const metric = this.#registry.getSingleMetric(probe.metric);
      if (!metric) continue;
      const trigger = probe.trigger ? this.#registry.getSingleMetric(probe.trigger) : undefined;
      if (trigger) await trigger.get();
      const data = await metric.get();
      const values = data.values.filter((v) => !(v as { metricName?: string }).metricName || !String((v as { metricName?: string }).metricName).endsWith('_bucket'));
      if (values.length === 0) continue;
      if (values.length === 1 || probe.labels !== undefined) {
        this.#record(probe, now, (values[0] as { value: number }).value);
      } else {
        for (const v of values.slice(0, MAX_DISCOVERED)) {
          const suffix = Object.values(v.labels).join(' ');
          this.#record({ ...probe, id: `${probe.id}{${suffix}}`, label: `${probe.label} ${suffix}` }, now, v.value);
        }
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

  /** Every series with at least one point. */
  views(): SeriesView[] {
    const out: SeriesView[] = [];
    for (const { probe, points } of this.#series.values()) {
      if (points.length > 0) out.push({ id: probe.id, label: probe.label, unit: probe.unit, points: [...points] });
    }
    return out;
  }
}
