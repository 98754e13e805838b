import type { Counter, Gauge } from 'prom-client';
import type { MetricsCollector } from '../metrics/collector';
import type { SpoolStats } from './spool';

/** Counts of one shipping transport, as {@link PipelineMetrics.snapshot} returns them. */
export interface PipelineSnapshot {
  /** Lines the backend confirmed (a 409 on a retried `create` counts: the line was there already). */
  readonly shipped: number;
  /** Line re-sends after a retryable failure. */
  readonly retried: number;
  /** Lines that will never arrive, by reason (`queue_full`, `rejected`, `retries_exhausted`, `shutdown`). */
  readonly dropped: Readonly<Record<string, number>>;
  /** Sum of {@link PipelineSnapshot.dropped}. */
  readonly droppedTotal: number;
  /** Bytes queued or in flight. */
  readonly queueBytes: number;
  /** Lines queued or in flight. */
  readonly queueLines: number;
  /** The on-disk spool, when the transport has one. */
  readonly spool?: SpoolStats;
}

/** `observability_log_lines_dropped_total{transport, reason}`: shared by the shippers and the log file. */
export function droppedLinesCounter(collector: MetricsCollector): Counter<string> {
  return collector.counter(
    'observability_log_lines_dropped_total',
    'Log lines that will never arrive, per transport and reason (queue_full, spool_full, spool_torn, rejected, retries_exhausted, shutdown, write_error).',
    ['transport', 'reason'],
  );
}

/** The transports of each collector, whose queue sizes its queue gauges read at each scrape. */
const pipelinesOf = new WeakMap<MetricsCollector, Set<PipelineMetrics>>();

/**
 * The queue gauges of `collector`, shared by its transports. Each sets every transport's value when read
 * (prom-client's `collect`): a queue that only grows during a backoff, with no batch sent, is still seen.
 */
function queueGauges(collector: MetricsCollector, pipeline: PipelineMetrics): { bytes: Gauge<string>; lines: Gauge<string> } {
  let pipelines = pipelinesOf.get(collector);
  const first = pipelines === undefined;
  if (pipelines === undefined) {
    pipelines = new Set();
    pipelinesOf.set(collector, pipelines);
  }
  pipelines.add(pipeline);
  const all = pipelines;
  const extras = first ? { collect: (): void => all.forEach((p) => p.publish()) } : {};
  return {
    bytes: collector.gauge('observability_log_queue_bytes', 'Bytes of log lines queued or in flight, per shipping transport.', ['transport'], extras),
    lines: collector.gauge('observability_log_queue_lines', 'Log lines queued or in flight, per shipping transport.', ['transport'], extras),
  };
}

/**
 * Pipeline counters of one transport: kept in plain numbers (for `stats()` and
 * standalone use) and mirrored on prom-client metrics when a collector is given:
 * `observability_log_lines_shipped_total`, `..._retried_total`, `..._dropped_total{reason}`,
 * `observability_log_queue_bytes`, `observability_log_queue_lines`, all labelled `transport`.
 */
export class PipelineMetrics {
  readonly #transport: string;
  #shipped = 0;
  #retried = 0;
  readonly #dropped = new Map<string, number>();
  #queueBytes = 0;
  #queueLines = 0;
  readonly #collector: MetricsCollector | undefined;
  #spool: SpoolStats | undefined;
  #spoolGauges: Record<'bytes' | 'segments' | 'lines' | 'unwritten', Gauge<string>> | undefined;
  readonly #prom:
    | { shipped: Counter<string>; retried: Counter<string>; dropped: Counter<string>; bytes: Gauge<string>; lines: Gauge<string> }
    | undefined;

  /** Counters for transport `name`, mirrored on `collector` when given. */
  constructor(name: string, collector?: MetricsCollector) {
    this.#transport = name;
    this.#collector = collector;
    if (collector) {
      this.#prom = {
        shipped: collector.counter('observability_log_lines_shipped_total', 'Log lines the backend confirmed, per shipping transport.', ['transport']),
        retried: collector.counter('observability_log_lines_retried_total', 'Log line re-sends after retryable failures, per shipping transport.', ['transport']),
        dropped: droppedLinesCounter(collector),
        ...queueGauges(collector, this),
      };
      const labels = { transport: name };
      this.#prom.shipped.inc(labels, 0);
      this.#prom.retried.inc(labels, 0);
      this.#prom.bytes.set(labels, 0);
      this.#prom.lines.set(labels, 0);
    }
  }

  /** Record `n` confirmed lines. */
  shipped(n: number): void {
    if (n <= 0) return;
    this.#shipped += n;
    this.#prom?.shipped.inc({ transport: this.#transport }, n);
  }

  /** Record `n` line re-sends. */
  retried(n: number): void {
    if (n <= 0) return;
    this.#retried += n;
    this.#prom?.retried.inc({ transport: this.#transport }, n);
  }

  /** Record `n` lines lost for `reason`. */
  dropped(reason: string, n: number): void {
    if (n <= 0) return;
    this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + n);
    this.#prom?.dropped.inc({ transport: this.#transport, reason }, n);
  }

  /** Record the queue's current size (cheap; the gauges follow at the next {@link PipelineMetrics.publish} or scrape). */
  queue(bytes: number, lines: number): void {
    this.#queueBytes = bytes;
    this.#queueLines = lines;
  }

  /** Copy the queue size onto the gauges (the queue calls this per batch, a scrape before it reads them). */
  publish(): void {
    const bytes = this.#queueBytes;
    const lines = this.#queueLines;
    if (this.#prom) {
      this.#prom.bytes.set({ transport: this.#transport }, bytes);
      this.#prom.lines.set({ transport: this.#transport }, lines);
    }
  }

  /** Copy the spool's state onto its gauges (created on the first call: only spooling transports have them). */
  spool(st: SpoolStats): void {
    this.#spool = st;
    const c = this.#collector;
    if (!c) return;
    this.#spoolGauges ??= {
      bytes: c.gauge('observability_log_spool_bytes', 'Bytes of log segments in the on-disk spool (written or buffered), per shipping transport.', ['transport']),
      segments: c.gauge('observability_log_spool_segments', 'Segment files in the on-disk spool, per shipping transport.', ['transport']),
      lines: c.gauge('observability_log_spool_lines', 'Log lines in the on-disk spool not yet acknowledged by the backend, per shipping transport.', ['transport']),
      unwritten: c.gauge(
        'observability_log_spool_unwritten_bytes',
        'Bytes accepted for the spool but not yet written to its file (lost if the process crashed now), per shipping transport.',
        ['transport'],
      ),
    };
    const labels = { transport: this.#transport };
    this.#spoolGauges.bytes.set(labels, st.bytes);
    this.#spoolGauges.segments.set(labels, st.segments);
    this.#spoolGauges.lines.set(labels, st.lines);
    this.#spoolGauges.unwritten.set(labels, st.unwrittenBytes);
  }

  /** Current counts. */
  snapshot(): PipelineSnapshot {
    const dropped = Object.fromEntries(this.#dropped);
    let droppedTotal = 0;
    for (const n of this.#dropped.values()) droppedTotal += n;
    return {
      shipped: this.#shipped,
      retried: this.#retried,
      dropped,
      droppedTotal,
      queueBytes: this.#queueBytes,
      queueLines: this.#queueLines,
      ...(this.#spool ? { spool: this.#spool } : {}),
    };
  }
}
