// The primary's aggregation with workers that come and go mid-collection (spec/cluster.spec.ts runs a
// real cluster; here the workers are stand-ins on node:cluster's own emitter, so that a worker can
// answer a collection and exit before it ends, which a real cluster does only by chance).
import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { after, describe, it } from 'node:test';
import { setupClusterPrimary } from '../lib/cluster/primary';
import { AGGREGATE, COLLECT, METRICS, SCRAPE, type MetricsJson } from '../lib/cluster/protocol';

interface StandIn {
  readonly id: number;
  connected: boolean;
  isConnected(): boolean;
  send(msg: { type: string; collectId?: number; body?: string }, handle: unknown, cb?: (err: Error | null) => void): boolean;
}

const asked: Array<[number, number]> = [];
const replies: string[] = [];
function standIn(id: number): StandIn {
  return {
    id,
    connected: true,
    isConnected() {
      return this.connected;
    },
    send(msg, _handle, cb) {
      if (msg.type === COLLECT) asked.push([id, msg.collectId as number]);
      if (msg.type === AGGREGATE) replies.push(msg.body ?? '');
      cb?.(null);
      return true;
    },
  };
}
const counter = (value: number): MetricsJson =>
  [{ name: 'jobs_total', help: 'Jobs.', type: 'counter', aggregator: 'sum', values: [{ labels: { queue: 'a' }, value }] }] as unknown as MetricsJson;
const total = (body: string | undefined): number => Number(/^jobs_total\{queue="a"\} (\S+)$/m.exec(body ?? '')?.[1]);
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('cluster primary: totals with workers that exit during a collection', () => {
  const workers = cluster as unknown as { workers: Record<number, StandIn>; emit(event: string, ...args: unknown[]): boolean };
  const saved = workers.workers;
  const primary = setupClusterPrimary();
  after(() => {
    primary.close();
    workers.workers = saved;
  });

  it('a worker that answered and then exited counts once in that scrape, and for good after (no drop)', async () => {
    const [w1, w2, w3] = [standIn(1), standIn(2), standIn(3)];
    workers.workers = { 1: w1, 2: w2, 3: w3 };
    const scrape = (): number => {
      asked.length = 0;
      workers.emit('message', w1 as unknown as Worker, { type: SCRAPE, requestId: 1, timeoutMs: 500 });
      return asked[0]?.[1] as number;
    };
    const answer = (w: StandIn, collectId: number, value: number): void => {
      workers.emit('message', w as unknown as Worker, { type: METRICS, collectId, metrics: counter(value) });
    };
    let id = scrape();
    answer(w1, id, 10);
    answer(w2, id, 20);
    answer(w3, id, 30);
    await tick();
    assert.equal(total(replies.at(-1)), 60);
    // w2 answers 25, then exits before the slow w3 answers.
    id = scrape();
    answer(w1, id, 11);
    answer(w2, id, 25);
    w2.connected = false;
    delete workers.workers[2];
    workers.emit('exit', w2 as unknown as Worker, 0, null);
    answer(w3, id, 31);
    await tick();
    assert.equal(total(replies.at(-1)), 67, 'the exited worker counted once');
    id = scrape();
    answer(w1, id, 12);
    answer(w3, id, 32);
    await tick();
    assert.equal(total(replies.at(-1)), 69, 'its last answer stays in the total');
  });
});
