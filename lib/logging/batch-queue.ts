/**
 * The bounded queue both shippers share: batches by count, bytes and interval; one
 * request in flight; exponential backoff with jitter on retryable failures; per-item
 * retry; and an exact account of every line that cannot be delivered (dead-letter hook
 * plus `dropped` counter by reason). Nothing is removed from the queue before the
 * backend has answered for it.
 */
import Denque from 'denque';
import type { PipelineMetrics } from './pipeline-metrics';
import { backoffDelay, wakeableSleep, withJitter } from '../util/backoff';
import { errorMessage } from '../util/warn';
import { TIMED_OUT, withDeadline } from '../util/deadline';

/** What the queue needs of an entry. */
export interface QueuedEntry {
  /** Size counted against the queue limit. */
  readonly bytes: number;
  /** Sends so far. */
  attempts: number;
}

/** One entry the backend refused for good. */
export interface Rejection<T> {
  readonly item: T;
  /** Backend's explanation (error type and reason, status). */
  readonly detail: string;
}

/** How a batch went when the backend answered: entries not listed here were delivered. */
export interface BatchOutcome<T> {
  /** Entries to send again (retryable per-item failures). */
  readonly retry: readonly T[];
  /** Entries refused for good. */
  readonly rejected: readonly Rejection<T>[];
}

/** A failed send of a whole batch: retryable (network, timeout, 429, 5xx) or not (other 4xx). */
export class SendError extends Error {
  /** Create a send error. */
  constructor(
    message: string,
    /** Whether sending the same batch again may succeed. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

/** Queue settings (validated by the transports' option readers). */
export interface BatchQueueSettings<T extends QueuedEntry> {
  readonly batchSize: number;
  readonly batchBytes: number;
  readonly flushIntervalMs: number;
  readonly maxQueueBytes: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Re-sends allowed per entry before it is dropped as `retries_exhausted` (Infinity: never). */
  readonly maxRetries: number;
  /** Per-request timeout; a request past it is aborted and retried. */
  readonly timeoutMs: number;
  /** Send one batch; throw {@link SendError} (or any error, treated as a network error) for whole-batch failures. */
  send(batch: readonly T[], signal: AbortSignal): Promise<BatchOutcome<T>>;
  /** Entries that will never arrive, with the reason (the dead-letter path). Must not throw. */
  onDrop(items: readonly T[], reason: string, detail: string): void;
  /** Entries the backend confirmed (a 409 on a retried `create` included). Must not throw. */
  onDelivered?(items: readonly T[]): void;
  /**
   * Entries still undelivered when the queue closes: returns those that are lost (dropped as
   * `shutdown`); the others are kept elsewhere (the spool). Default: all are lost. Must not throw.
   */
  keep?(items: readonly T[]): readonly T[];
  readonly metrics: PipelineMetrics;
}

/** The shared batching, retrying, bounded queue. */
export class BatchQueue<T extends QueuedEntry> {
  readonly #s: BatchQueueSettings<T>;
  /**
   * Queued entries, oldest first, in a ring that empties each slot as its entry is taken: nothing sent
   * stays referenced here, and under steady traffic the ring is reused rather than reallocated.
   */
  readonly #items = new Denque<T>();
  #queuedBytes = 0;
  #inFlight: readonly T[] = [];
  #inFlightBytes = 0;
  #running = false;
  /** Entries at the front that the last interval tick made due (sent even if no batch is full). */
  #due = 0;
  #flushWaiters: Array<() => void> = [];
  #failures = 0;
  #closing = false;
  #closed = false;
  #hardStop = false;
  #abandoned = false;
  #abort: AbortController | undefined;
  #wake: (() => void) | undefined;
  #pumpDone: Promise<void> = Promise.resolve();
  readonly #interval: NodeJS.Timeout;

  /** Create a queue; its interval timer is unref'd. */
  constructor(settings: BatchQueueSettings<T>) {
    this.#s = settings;
    // Each tick makes due what is queued at that moment, once: under steady traffic the queue is
    // never empty, and sending everything back to back until it was would post a small batch after
    // every answer (what arrived during one round trip) instead of full ones.
    this.#interval = setInterval(() => {
      if (this.#length() === 0) return;
      this.#due = this.#length();
      this.#kick();
    }, settings.flushIntervalMs);
    this.#interval.unref();
  }

  /** Entries queued plus in flight. */
  get size(): number {
    return this.#length() + this.#inFlight.length;
  }

  /** Bytes queued plus in flight. */
  get bytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** False once the queue is closed. */
  get accepting(): boolean {
    return !this.#closed;
  }

  /** True when an entry of `bytes` would be queued now (open, and room under `maxQueueBytes`). */
  wouldAccept(bytes: number): boolean {
    return !this.#closed && this.bytes + bytes <= this.#s.maxQueueBytes;
  }

  /**
   * Queue an entry; returns false (and accounts for it as dropped) when it cannot be taken. `fromDisk`:
   * a record the spool replays (its segment was read because the queue had room), taken even past
   * `maxQueueBytes` (by at most that segment), since its only other copy is on disk and would be dropped.
   */
  push(item: T, fromDisk = false): boolean {
    if (this.#closed) {
      this.#drop([item], 'shutdown', 'transport closed');
      return false;
    }
    if (!fromDisk && this.bytes + item.bytes > this.#s.maxQueueBytes) {
      this.#drop([item], 'queue_full', `queue holds ${this.bytes} bytes, limit ${this.#s.maxQueueBytes}`);
      return false;
    }
    this.#items.push(item);
    this.#queuedBytes += item.bytes;
    this.#s.metrics.queue(this.bytes, this.size);
    if (!this.#running && (this.#length() >= this.#s.batchSize || this.#queuedBytes >= this.#s.batchBytes)) this.#kick();
    return true;
  }

  /** Send everything queued now; resolves once the queue (and any request in flight) is empty. */
  flush(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#flushWaiters.push(resolve);
      this.#kick();
    });
  }

  /**
   * Stop accepting entries after draining: sends what is queued, waits at most
   * `timeoutMs`, then aborts and accounts for whatever is left as dropped (`shutdown`).
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closing = true;
    clearInterval(this.#interval);
    // A backoff begun before shutdown must not outlast it: retry now, then from the first delay again.
    this.#failures = 0;
    this.#wake?.();
    // The deadline holds the process open: the flush must finish (or give up) before exit.
    const expired = (await withDeadline(this.flush(), timeoutMs, { holdOpen: true })) === TIMED_OUT;
    this.#closed = true;
    if (expired) {
      this.#hardStop = true;
      this.#abort?.abort(new Error('shutdown timeout'));
      this.#wake?.();
      await this.#pumpDone;
      const left = this.#queued();
      this.#due = 0;
      this.#items.clear();
      this.#queuedBytes = 0;
      this.#left(left, `not delivered within the shutdown timeout of ${timeoutMs} ms`);
    }
    this.#s.metrics.queue(this.bytes, this.size);
    this.#s.metrics.publish();
  }

  /**
   * The process exits now (a forced shutdown): whatever is queued or in flight is accounted for at once
   * (kept by the `keep` hook or dropped as `shutdown`), the request in flight is aborted. Idempotent.
   */
  abandon(detail: string): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#closing = true;
    this.#closed = true;
    this.#hardStop = true;
    clearInterval(this.#interval);
    const left = [...this.#inFlight, ...this.#queued()];
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    this.#items.clear();
    this.#queuedBytes = 0;
    this.#due = 0;
    this.#abort?.abort(new Error(detail));
    this.#wake?.();
    this.#left(left, detail);
    this.#s.metrics.queue(0, 0);
    this.#s.metrics.publish();
  }

  /** The entries queued (not in flight), oldest first. */
  #queued(): T[] {
    return this.#items.toArray();
  }

  #length(): number {
    return this.#items.length;
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    this.#pumpDone = this.#pump().finally(() => {
      this.#running = false;
    });
  }

  #shouldSend(): boolean {
    const n = this.#length();
    if (n === 0) return false;
    return (
      this.#closing ||
      this.#due > 0 ||
      this.#flushWaiters.length > 0 ||
      n >= this.#s.batchSize ||
      this.#queuedBytes >= this.#s.batchBytes
    );
  }

  #take(): T[] {
    const { batchSize, batchBytes } = this.#s;
    const items = this.#items;
    const batch: T[] = [];
    let bytes = 0;
    while (items.length > 0 && batch.length < batchSize) {
      const b = (items.peekFront() as T).bytes;
      if (batch.length > 0 && bytes + b > batchBytes) break;
      bytes += b;
      batch.push(items.shift() as T);
    }
    this.#due = Math.max(0, this.#due - batch.length);
    this.#queuedBytes -= bytes;
    this.#inFlight = batch;
    this.#inFlightBytes = bytes;
    return batch;
  }

  /** Put entries back at the front, in their order. */
  #requeue(items: readonly T[]): void {
    if (items.length === 0) return;
    // They were sent once: due again (after the backoff), whether or not a batch is full.
    this.#due += items.length;
    for (let i = items.length - 1; i >= 0; i--) this.#items.unshift(items[i] as T);
    for (const it of items) this.#queuedBytes += it.bytes;
  }

  async #pump(): Promise<void> {
    while (!this.#hardStop && this.#shouldSend()) {
      const batch = this.#take();
      this.#s.metrics.queue(this.bytes, this.size);
      this.#s.metrics.publish();
      for (const it of batch) it.attempts++;
      const failed = await this.#sendOnce(batch);
      this.#inFlight = [];
      this.#inFlightBytes = 0;
      this.#s.metrics.queue(this.bytes, this.size);
      this.#s.metrics.publish();
      if (failed) {
        this.#failures++;
        const { retryInitialMs, retryMaxMs } = this.#s;
        await this.#sleep(withJitter(backoffDelay(this.#failures - 1, retryInitialMs, retryMaxMs)));
      } else {
        this.#failures = 0;
      }
    }
    if (this.size === 0 || this.#hardStop) {
      const waiters = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Send one batch and settle every entry of it; returns true when something must be retried. */
  async #sendOnce(batch: T[]): Promise<boolean> {
    const abort = new AbortController();
    this.#abort = abort;
    const timer = setTimeout(() => abort.abort(new Error(`request timed out after ${this.#s.timeoutMs} ms`)), this.#s.timeoutMs);
    if (!this.#closing) timer.unref();
    let outcome: BatchOutcome<T>;
    try {
      outcome = await this.#s.send(batch, abort.signal);
    } catch (err) {
      // Abandoned: the batch was accounted for then.
      if (this.#abandoned) return false;
      const retryable = !(err instanceof SendError) || err.retryable;
      const detail = errorMessage(err);
      if (this.#hardStop) {
        this.#left(batch, detail);
        return false;
      }
      if (!retryable) {
        this.#drop(batch, 'rejected', detail);
        return false;
      }
      return this.#retry(batch, detail);
    } finally {
      clearTimeout(timer);
      this.#abort = undefined;
    }
    if (this.#abandoned) return false;
    const retry = new Set(outcome.retry);
    const rejected = new Set(outcome.rejected.map((r) => r.item));
    const delivered = retry.size + rejected.size === 0 ? batch : batch.filter((it) => !retry.has(it) && !rejected.has(it));
    this.#s.metrics.shipped(delivered.length);
    this.#s.onDelivered?.(delivered);
    for (const r of outcome.rejected) this.#drop([r.item], 'rejected', r.detail);
    if (outcome.retry.length === 0) return false;
    if (this.#hardStop) {
      this.#left(outcome.retry, 'retry pending at shutdown');
      return false;
    }
    return this.#retry(outcome.retry, 'retryable item failures');
  }

  #retry(items: readonly T[], detail: string): boolean {
    const again: T[] = [];
    const exhausted: T[] = [];
    for (const it of items) (it.attempts > this.#s.maxRetries ? exhausted : again).push(it);
    this.#drop(exhausted, 'retries_exhausted', detail);
    this.#s.metrics.retried(again.length);
    this.#requeue(again);
    return again.length > 0;
  }

  async #sleep(ms: number): Promise<void> {
    // While shutting down the flush must finish before the process may exit; otherwise never hold it open.
    const sleep = wakeableSleep(ms, this.#closing);
    this.#wake = sleep.wake;
    await sleep.done;
    if (this.#wake === sleep.wake) this.#wake = undefined;
  }

  /** Entries undelivered at shutdown: lost unless the `keep` hook keeps them. */
  #left(items: readonly T[], detail: string): void {
    this.#drop(this.#s.keep ? this.#s.keep(items) : items, 'shutdown', detail);
  }

  #drop(items: readonly T[], reason: string, detail: string): void {
    if (items.length === 0) return;
    this.#s.metrics.dropped(reason, items.length);
    this.#s.onDrop(items, reason, detail);
  }
}
