import type { ServerResponse } from 'node:http';
import { atTurnEnd } from '../util/turn-end';
import type { CompletedRequest, ObservedRequest, RequestParticipant, RequestState } from './state';

/**
 * Ended requests waiting for the turn's end at most: the participants get them as soon as this many
 * wait. It bounds what a turn that ends thousands of requests holds (~1.5 KB each) and how long its
 * recording blocks the loop at once, and lets the bursts of a few dozen responses a timers phase
 * writes leave before any of them is recorded (docs/performance.md, "Finished requests at the end of the turn").
 */
const MAX_WAITING = 64;
// Exported for spec/request-participants.spec.ts; the module reads its own binding.
export { MAX_WAITING };

/**
 * The subsystems that take part in each request, in registration order (tracing first: its `run`
 * enters the span's context, and the access log reads the span's ids). The list is fixed once
 * `createObservability()` returns, so it is split by hook on the first request. A participant that
 * throws is reported and the request goes on.
 *
 * Finished requests reach the participants together at the end of the event-loop turn (the span's end,
 * the access line), or sooner when {@link MAX_WAITING} wait: a turn writes its responses before this
 * work starts. Each request carries the time it ended, so nothing is timed to the turn's end.
 */
export class Participants {
  readonly #all: readonly RequestParticipant[];
  readonly #reportError: (component: string, err: unknown) => void;
  #starters: readonly RequestParticipant[] | undefined;
  #finishers: readonly RequestParticipant[] = [];
  #skippers: readonly RequestParticipant[] = [];
  #servers: readonly RequestParticipant[] = [];
  #runner: RequestParticipant | undefined;
  /** Requests ended this turn, handed to the finishers at its end. */
  #ended: CompletedRequest[] = [];
  readonly #atTurnEnd = (): void => this.finishEnded();

  /** Participants `all` (read on first use); failures go to `reportError`. */
  constructor(all: readonly RequestParticipant[], reportError: (component: string, err: unknown) => void) {
    this.#all = all;
    this.#reportError = reportError;
  }

  /** True when some participant wants finished requests (else no completion record is built). */
  get wantsFinish(): boolean {
    this.#resolve();
    return this.#finishers.length > 0;
  }

  /** A measured request enters. */
  start(req: ObservedRequest, res: ServerResponse, state: RequestState): void {
    const starters = this.#resolve();
    for (let i = 0; i < starters.length; i++) {
      try {
        (starters[i] as RequestParticipant).start?.(req, res, state);
      } catch (err) {
        this.#reportError('participant', err);
      }
    }
  }

  /** Continue with `fn(a, b)`, inside the runner's context when there is one. */
  run<A, B>(state: RequestState, fn: (a: A, b: B) => void, a: A, b: B): void {
    const runner = this.#runner;
    if (runner?.run) runner.run(state, fn, a, b);
    else fn(a, b);
  }

  /** A measured request ended: the finishers get it at the end of this event-loop turn. */
  finishAtTurnEnd(done: CompletedRequest): void {
    const waiting = this.#ended.push(done);
    if (waiting === 1) atTurnEnd(this.#atTurnEnd);
    else if (waiting >= MAX_WAITING) this.finishEnded();
  }

  /** Hand every ended request to the finishers now (at the turn's end, and when shutdown begins). */
  finishEnded(): void {
    const ended = this.#ended;
    if (ended.length === 0) return;
    this.#ended = [];
    const finishers = this.#finishers;
    for (let i = 0; i < ended.length; i++) {
      const done = ended[i] as CompletedRequest;
      for (let j = 0; j < finishers.length; j++) {
        try {
          (finishers[j] as RequestParticipant).finish?.(done);
        } catch (err) {
          this.#reportError('participant', err);
        }
      }
    }
  }

  /** A request the observability router answered ended: participants drop what they started for it. */
  served(state: RequestState): void {
    for (const p of this.#servers) {
      try {
        p.served?.(state);
      } catch (err) {
        this.#reportError('participant', err);
      }
    }
  }

  /** A request the middleware does not measure: participants only set it up (`req.log`). */
  skip(req: ObservedRequest, res: ServerResponse): void {
    this.#resolve();
    for (const p of this.#skippers) {
      try {
        p.skip?.(req, res);
      } catch (err) {
        this.#reportError('participant', err);
      }
    }
  }

  #resolve(): readonly RequestParticipant[] {
    if (this.#starters !== undefined) return this.#starters;
    const all = this.#all;
    this.#finishers = all.filter((p) => p.finish !== undefined);
    this.#skippers = all.filter((p) => p.skip !== undefined);
    this.#servers = all.filter((p) => p.served !== undefined);
    this.#runner = all.find((p) => p.run !== undefined);
    this.#starters = all.filter((p) => p.start !== undefined);
    return this.#starters;
  }
}
