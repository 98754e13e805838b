import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type ObservabilityOptions } from '../lib/index';
import { listen, request, type Listening } from './support/http';

type Obs = ReturnType<typeof createObservability>;
interface Entry {
  status: string;
  observedValue?: unknown;
  observedUnit?: string;
  output?: string;
  time: string;
  duration: number;
  componentId?: string;
  componentType?: string;
}
interface Body {
  status: string;
  serviceId: string;
  version: string;
  output?: string;
  checks?: Record<string, Entry[]>;
}

const running: { obs: Obs; srv: Listening }[] = [];
async function start(options: ObservabilityOptions = {}): Promise<{ obs: Obs; get: (path: string) => Promise<{ status: number; type: string; body: Body }> }> {
  const obs = createObservability({
    serviceName: 'health-spec',
    serviceVersion: '2.0.0',
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
    system: { enabled: false },
    ...options,
  });
  const app = express();
  app.use(obs.router);
  const srv = await listen(app);
  running.push({ obs, srv });
  const get = async (path: string): Promise<{ status: number; type: string; body: Body }> => {
    const r = await request(srv.url, path);
    return { status: r.status, type: String(r.headers['content-type']), body: JSON.parse(r.body) as Body };
  };
  return { obs, get };
}

after(async () => {
  for (const r of running) {
    await r.srv.close();
    await r.obs.shutdown();
  }
});

describe('health checks', () => {
  it('answers application/health+json with pass when every check passes', async () => {
    const { obs, get } = await start();
    obs.health.addCheck('db:connections', () => ({ observedValue: 3, observedUnit: 'connections', componentType: 'datastore' }), { critical: true });
    obs.health.addCheck('cache:ping', () => true);
    const r = await get('/health');
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/health\+json/);
    assert.equal(r.body.status, 'pass');
    assert.equal(r.body.serviceId, 'health-spec');
    assert.equal(r.body.version, '2.0.0');
    const db = r.body.checks?.['db:connections']?.[0] as Entry;
    assert.equal(db.status, 'pass');
    assert.equal(db.observedValue, 3);
    assert.equal(db.observedUnit, 'connections');
    assert.equal(db.componentType, 'datastore');
    assert.ok(!Number.isNaN(Date.parse(db.time)) && db.time.endsWith('Z'));
    assert.ok(typeof db.duration === 'number' && db.duration >= 0);
    assert.equal(r.body.checks?.['cache:ping']?.[0]?.status, 'pass');
  });

  it('combines statuses: warn -> 200 warn, non-critical fail -> 200 warn, critical fail -> 503 fail', async () => {
    const state: Record<string, unknown> = { a: 'pass', b: 'pass', c: 'pass' };
    const { obs, get } = await start({ health: { cacheTtlMs: 0 } });
    obs.health.addCheck('a:critical', () => state.a as 'pass', { critical: true });
    obs.health.addCheck('b:optional', () => ({ status: state.b as 'pass', output: `b is ${String(state.b)}` }));
    obs.health.addCheck('c:optional', () => state.c as 'pass');

    const cases: [Record<string, string>, number, string][] = [
      [{ a: 'pass', b: 'pass', c: 'pass' }, 200, 'pass'],
      [{ a: 'pass', b: 'warn', c: 'pass' }, 200, 'warn'],
      [{ a: 'warn', b: 'pass', c: 'pass' }, 200, 'warn'],
      [{ a: 'pass', b: 'fail', c: 'pass' }, 200, 'warn'],
      [{ a: 'fail', b: 'pass', c: 'pass' }, 503, 'fail'],
      [{ a: 'fail', b: 'warn', c: 'fail' }, 503, 'fail'],
    ];
    for (const [s, code, overall] of cases) {
      Object.assign(state, s);
      const r = await get('/health');
      assert.equal(r.status, code, JSON.stringify(s));
      assert.equal(r.body.status, overall, JSON.stringify(s));
      assert.equal(r.body.checks?.['a:critical']?.[0]?.status, s.a);
      assert.equal(r.body.checks?.['b:optional']?.[0]?.status, s.b);
      assert.equal(r.body.checks?.['b:optional']?.[0]?.output, `b is ${s.b}`);
      if (overall !== 'pass' && (s.a === 'fail' || s.b === 'fail' || s.c === 'fail')) assert.match(r.body.output ?? '', /^failing: /);
      // Readiness runs only the critical check.
      const ready = await get('/health/ready');
      assert.equal(ready.status, s.a === 'fail' ? 503 : 200);
      assert.deepEqual(Object.keys(ready.body.checks ?? {}), ['a:critical']);
    }
  });

  it('fails a throwing check with its message (stack only when asked) and a check returning false', async () => {
    const { obs, get } = await start();
    obs.health.addCheck('broker:publish', () => {
      throw new Error('connection refused by broker');
    }, { critical: true });
    obs.health.addCheck('flag:off', () => false);
    const r = await get('/health');
    assert.equal(r.status, 503);
    const e = r.body.checks?.['broker:publish']?.[0] as Entry;
    assert.equal(e.status, 'fail');
    assert.equal(e.output, 'connection refused by broker');
    assert.equal(r.body.checks?.['flag:off']?.[0]?.status, 'fail');

    const verbose = await start({ health: { errorStacks: true } });
    verbose.obs.health.addCheck('broker:publish', async () => {
      throw new Error('still refused');
    });
    const v = await verbose.get('/health');
    assert.match(v.body.checks?.['broker:publish']?.[0]?.output ?? '', /^Error: still refused\n\s+at /);
  });

  it('fails a check whose result JSON cannot hold (a BigInt, a cycle); /health and the dashboard still answer', async () => {
    const { obs, get } = await start({ views: true });
    obs.health.addCheck('db:rows', () => ({ observedValue: 12345678901234567890n }), { critical: true });
    const cyclic: Record<string, unknown> = { status: 'pass' };
    cyclic.self = cyclic;
    obs.health.addCheck('cache:state', () => cyclic as never);
    obs.health.addCheck('queue:depth', () => ({ observedValue: 4 }));
    const r = await get('/health');
    assert.equal(r.status, 503);
    const rows = r.body.checks?.['db:rows']?.[0] as Entry;
    assert.equal(rows.status, 'fail');
    assert.match(rows.output ?? '', /^check returned a value that is not JSON: .*BigInt/);
    assert.equal(r.body.checks?.['cache:state']?.[0]?.status, 'fail');
    assert.match(r.body.checks?.['cache:state']?.[0]?.output ?? '', /circular/i);
    assert.equal(r.body.checks?.['queue:depth']?.[0]?.observedValue, 4);
    const summary = await get('/dashboard/api/summary');
    assert.equal(summary.status, 200);
  });

  it('fails a hanging check at its deadline with "timed out after N ms" and aborts its signal', async () => {
    const { obs, get } = await start();
    let aborted = false;
    let calls = 0;
    obs.health.addCheck(
      'upstream:latency',
      (signal) => {
        calls++;
        signal.addEventListener('abort', () => (aborted = true));
        return new Promise(() => undefined);
      },
      { timeout: 300, ttl: 0, critical: true },
    );
    const t0 = Date.now();
    const r = await get('/health');
    const took = Date.now() - t0;
    assert.equal(r.status, 503);
    const e = r.body.checks?.['upstream:latency']?.[0] as Entry;
    assert.equal(e.status, 'fail');
    assert.equal(e.output, 'timed out after 300 ms');
    assert.ok(took >= 290 && took < 3000, `answered after ${took} ms`);
    assert.ok(e.duration >= 290);
    assert.equal(aborted, true);
    // Still hanging: not called again, fails at once.
    const again = await get('/health');
    assert.match(again.body.checks?.['upstream:latency']?.[0]?.output ?? '', /^timed out after 300 ms \(previous call still running\)$/);
    assert.equal(calls, 1);
  });

  it('runs each check once for 100 concurrent /health requests, and again after the cache TTL', async () => {
    const { obs, get } = await start({ health: { cacheTtlMs: 2000 } });
    const calls = { slow: 0, fast: 0 };
    obs.health.addCheck('slow:dep', async () => {
      calls.slow++;
      await new Promise((r) => setTimeout(r, 100));
      return { observedValue: calls.slow };
    });
    obs.health.addCheck('fast:dep', () => {
      calls.fast++;
    }, { ttl: 1000 });
    const results = await Promise.all(Array.from({ length: 100 }, () => get('/health')));
    assert.ok(results.every((r) => r.status === 200 && r.body.status === 'pass'));
    assert.equal(calls.slow, 1);
    assert.equal(calls.fast, 1);
    await new Promise((r) => setTimeout(r, 1100));
    await get('/health');
    assert.equal(calls.slow, 1, 'slow:dep still cached (2 s)');
    assert.equal(calls.fast, 2, 'fast:dep re-run after its 1 s ttl');
  });

  it('liveness never runs a check; readiness fails once shutdown begins', async () => {
    const { obs, get } = await start();
    let calls = 0;
    obs.health.addCheck('db:ping', () => {
      calls++;
      return 'fail';
    }, { critical: true });
    const live = await get('/health/live');
    assert.equal(live.status, 200);
    assert.equal(live.body.status, 'pass');
    assert.equal(calls, 0);
    assert.equal((await get('/health/ready')).status, 503);
    assert.equal(calls, 1);

    const other = await start();
    assert.equal((await other.get('/health/ready')).status, 200);
    other.obs.health.beginShutdown();
    const ready = await other.get('/health/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.output, 'shutting down');
    assert.equal((await other.get('/health/live')).status, 200);
  });

  it('runs interval checks in the background; requests read the last result', async () => {
    const { obs, get } = await start();
    let calls = 0;
    obs.health.addCheck('queue:depth', () => ({ observedValue: ++calls }), { interval: 50 });
    await new Promise((r) => setTimeout(r, 180));
    const before = calls;
    assert.ok(before >= 2, `ran ${before} times in the background`);
    const r = await get('/health');
    assert.equal(calls, before, 'a request does not run an interval check');
    assert.equal(r.body.checks?.['queue:depth']?.[0]?.observedValue, before);
  });

  it('built-in event-loop, memory and disk checks read the sampler and honour the thresholds', async () => {
    const { get } = await start({
      system: {
        probes: {
          memory: () => ({ total: 1000, free: 20, available: 50 }),
          mounts: () => [
            { mountpoint: '/', device: 'a', fstype: 'ext4' },
            { mountpoint: '/data', device: 'b', fstype: 'xfs' },
          ],
          statfs: (m: string) => (m === '/' ? { size: 100, used: 10, available: 90 } : { size: 100, used: 92, available: 8 }),
        },
      },
      health: { builtinsCritical: true, thresholds: { memoryRatio: { warn: 0.5, fail: 0.99 } } },
    });
    await new Promise((r) => setTimeout(r, 100));
    const r = await get('/health/ready');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'warn');
    const mem = r.body.checks?.['memory:utilization']?.[0] as Entry;
    assert.deepEqual([mem.status, mem.observedValue, mem.observedUnit], ['warn', 0.95, 'ratio']);
    const disk = r.body.checks?.['disk:utilization'] as Entry[];
    assert.deepEqual(disk.map((d) => [d.componentId, d.status, d.observedValue]), [['/', 'pass', 0.1], ['/data', 'warn', 0.92]]);
    const loop = r.body.checks?.['eventloop:delay']?.[0] as Entry;
    assert.equal(loop.observedUnit, 'ms');
  });

  it('validates check registrations and health options, naming the option', async () => {
    const { obs } = await start();
    assert.throws(() => obs.health.addCheck('x', 'nope' as never), TypeError);
    obs.health.addCheck('x', () => true);
    assert.throws(() => obs.health.addCheck('x', () => true), /already exists/);
    assert.throws(() => obs.health.addCheck('y', () => true, { timeout: -1 }), /health check "y"\.timeout/);
    assert.throws(() => obs.health.addCheck('z', () => true, { ttl: 5, interval: 50 }), /pick one/);
    // Timers: past Node's longest one they would fire after 1 ms.
    assert.throws(() => obs.health.addCheck('w', () => true, { interval: 3e9 }), /health check "w"\.interval" must be at most 2147483647/);
    assert.throws(() => obs.health.addCheck('v', () => true, { timeout: 3e9 }), /health check "v"\.timeout" must be at most 2147483647/);
    assert.throws(() => createObservability({ health: { cacheTtlMs: 'x' as never } }), /"health\.cacheTtlMs"/);
    assert.throws(
      () => createObservability({ health: { thresholds: { diskRatio: { warn: 0.99, fail: 0.5 } } } }),
      (e: Error) => e instanceof RangeError && /"health\.thresholds\.diskRatio\.warn"/.test(e.message),
    );
  });
});
