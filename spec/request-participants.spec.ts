import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WAITING, Participants } from '../lib/request/participants';
import { newRequestState, type CompletedRequest } from '../lib/request/state';

// When the participants get ended requests: at the end of the event-loop turn, or at once when MAX_WAITING wait.
// Timing inside one turn is not visible on the wire (every reader hands the waiting requests over first), so this
// drives the real class directly. The same requests on the wire: spec/request-end.spec.ts.
function ended(i: number): CompletedRequest {
  return {
    state: newRequestState(0, true),
    method: 'GET',
    route: '/r/:id',
    routeTemplate: '/r/:id',
    url: `/r/${i}`,
    path: `/r/${i}`,
    statusCode: 200,
    status: '200',
    aborted: false,
    headersSent: true,
    responseBytes: 2,
    userAgent: undefined,
    clientAddress: '127.0.0.1',
    durationMs: 1,
    end: i,
  };
}

const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ended requests wait for the turn\'s end, at most MAX_WAITING of them', () => {
  it('a turn that ends fewer requests hands them over at its end, in order, once each', async () => {
    const got: string[] = [];
    const p = new Participants([{ finish: (d) => got.push(d.url) }], (c, e) => assert.fail(`${c}: ${String(e)}`));
    assert.equal(p.wantsFinish, true, 'the middleware asks this before building a completion record');
    for (let i = 0; i < MAX_WAITING - 1; i++) p.finishAtTurnEnd(ended(i));
    assert.deepEqual(got, [], 'nothing is recorded while the turn writes its responses');
    await turnEnd();
    assert.deepEqual(got, Array.from({ length: MAX_WAITING - 1 }, (_, i) => `/r/${i}`));
    await turnEnd();
    assert.equal(got.length, MAX_WAITING - 1, 'handed over once');
  });

  it('the request that makes MAX_WAITING hands them all over at once; later ones wait for the turn\'s end', async () => {
    const got: number[] = [];
    const p = new Participants([{ finish: (d) => got.push(d.end) }], (c, e) => assert.fail(`${c}: ${String(e)}`));
    assert.equal(p.wantsFinish, true);
    for (let i = 0; i < MAX_WAITING - 1; i++) p.finishAtTurnEnd(ended(i));
    assert.equal(got.length, 0);
    p.finishAtTurnEnd(ended(MAX_WAITING - 1));
    assert.equal(got.length, MAX_WAITING, 'handed over within the turn');
    for (let i = MAX_WAITING; i < MAX_WAITING + 10; i++) p.finishAtTurnEnd(ended(i));
    assert.equal(got.length, MAX_WAITING);
    await turnEnd();
    assert.deepEqual(got, Array.from({ length: MAX_WAITING + 10 }, (_, i) => i), 'every request once, in the order they ended');
  });
});
