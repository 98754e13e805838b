/**
 * Work deferred to the end of the current event-loop turn: one `setImmediate` per turn runs every
 * queued callback, in the order queued. A callback queued while the queue runs joins this run, so a
 * request recorded at the end of a turn has its log lines written in that same turn.
 */
const queue: (() => void)[] = [];
let scheduled = false;

/** Run `fn` at the end of this event-loop turn (Node's check phase). `fn` should not throw. */
export function atTurnEnd(fn: () => void): void {
  queue.push(fn);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runQueue);
  }
}

function runQueue(): void {
  let failure: { err: unknown } | undefined;
  for (let i = 0; i < queue.length; i++) {
    try {
      (queue[i] as () => void)();
    } catch (err) {
      failure ??= { err };
    }
  }
  queue.length = 0;
  scheduled = false;
  // Every callback ran; a failure surfaces as it would have from its own immediate.
  if (failure !== undefined) throw failure.err;
}
