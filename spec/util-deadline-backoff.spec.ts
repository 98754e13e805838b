// The shared timing helpers: withDeadline() (health checks, system probes, span and log shutdowns,
// the shippers' close) and the exponential backoff of the shippers' batch queue and the alert notifiers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, wakeableSleep, withJitter } from '../lib/util/backoff';
import { TIMED_OUT, withDeadline } from '../lib/util/deadline';

const never = new Promise<never>(() => undefined);

/** Run `fn` with a ref'd timer pending: the helpers' own timers are unref'd and would let the test process exit. */
async function keptAlive<T>(fn: () => Promise<T>): Promise<T> {
  const alive = setTimeout(() => undefined, 60_000);
  try {
    return await fn();
  } finally {
    clearTimeout(alive);
  }
}

describe('withDeadline()', () => {
  it('resolves to the value of work that settles first', async () => {
    assert.equal(await withDeadline(Promise.resolve(42), 60_000), 42);
  });

  it('resolves to TIMED_OUT when the deadline passes first, holding the process open only when asked', async () => {
    assert.equal(await keptAlive(() => withDeadline(never, 5)), TIMED_OUT);
    assert.equal(await withDeadline(never, 5, { holdOpen: true }), TIMED_OUT);
  });

  it('rejects with the rejection of work that fails first', async () => {
    await assert.rejects(withDeadline(Promise.reject(new Error('probe failed')), 60_000), /probe failed/);
  });

  it('a value that happens to equal the old sentinel string is not a timeout', async () => {
    assert.equal(await withDeadline(Promise.resolve('timeout'), 60_000), 'timeout');
  });
});

describe('backoffDelay() and withJitter()', () => {
  it('doubles from the initial delay per attempt and never passes the cap', () => {
    assert.deepEqual([0, 1, 2, 3].map((a) => backoffDelay(a, 500)), [500, 1000, 2000, 4000]);
    assert.deepEqual([0, 1, 2, 3, 4].map((a) => backoffDelay(a, 100, 800)), [100, 200, 400, 800, 800]);
    assert.equal(backoffDelay(10_000, 100, 30_000), 30_000);
  });

  it('stays finite without a cap however many attempts failed, and treats a negative attempt as the first', () => {
    assert.ok(Number.isFinite(backoffDelay(1e6, 500)));
    assert.equal(backoffDelay(1e6, 1), 2 ** 30);
    assert.equal(backoffDelay(-1, 500), 500);
  });

  it('jitter keeps a delay within [ms / 2, ms)', () => {
    assert.equal(withJitter(1000, () => 0), 500);
    assert.ok(withJitter(1000, () => 0.999999) < 1000);
    for (let i = 0; i < 1000; i++) {
      const d = withJitter(backoffDelay(i % 12, 100, 30_000));
      const full = backoffDelay(i % 12, 100, 30_000);
      assert.ok(d >= full / 2 && d < full, `${d} within [${full / 2}, ${full})`);
    }
  });
});

describe('wakeableSleep()', () => {
  it('wake() ends an hour-long sleep now, and twice is harmless', async () => {
    const s = wakeableSleep(3_600_000);
    s.wake();
    s.wake();
    await s.done;
  });

  it('ends by itself when the time is up', async () => {
    await keptAlive(() => wakeableSleep(1).done);
    await wakeableSleep(1, true).done;
  });
});
