import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './support/demo';
import { pool, request, waitFor } from './support/http';
import { startPrometheus, type PrometheusServer } from './support/prometheus';
import { stopChild } from './support/process';

const TIMEOUT_MS = 800;

interface ClusterApp {
  readonly port: number;
  readonly url: string;
  readonly workers: ReadonlyMap<string, number>;
  command(line: string): void;
  stop(): Promise<void>;
}

async function startCluster(): Promise<ClusterApp> {
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'spec', 'fixtures', 'cluster-app.cjs')], {
    cwd: ROOT,
    env: { ...process.env, CLUSTER_WORKERS: '2', CLUSTER_TIMEOUT_MS: String(TIMEOUT_MS) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  const ready = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`cluster app exited:\n${out}`);
    return /READY (\d+) (.*)\n/.exec(out) ?? undefined;
  }, 30_000, 50, 'the cluster to listen');
  const port = Number(ready[1]);
  const workers = new Map((ready[2] ?? '').trim().split(' ').map((w) => w.split(':') as [string, string]).map(([id, pid]) => [id, Number(pid)]));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    workers,
    command: (line) => child.stdin?.write(`${line}\n`),
    async stop() {
      await stopChild(child, exited);
      for (const pid of workers.values()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (err) {
          assert.equal((err as NodeJS.ErrnoException).code, 'ESRCH'); // already gone, as expected
        }
      }
    },
  };
}

/** GET on a fresh connection, abandoned after `ms` (resolves undefined then). */
function getWithin(url: string, ms: number): Promise<{ status: number; body: string; elapsed: number } | undefined> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, elapsed: Date.now() - started }));
    });
    req.setTimeout(ms, () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', () => resolve(undefined));
  });
}

function sampleValue(text: string, series: RegExp): number | undefined {
  for (const line of text.split('\n')) {
    if (series.test(line)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const USERS_COUNT = /^http_server_request_duration_seconds_count\{[^}]*route="\/users\/:id"[^}]*\}/;

describe('cluster mode: one /metrics for every worker of a Node cluster', () => {
  let app: ClusterApp;
  let prom: PrometheusServer;
  const REQUESTS = 40;
  before(async () => {
    app = await startCluster();
    prom = await startPrometheus({ targets: [`127.0.0.1:${app.port}`], scrapeInterval: '1s' });
  });
  after(async () => {
    await prom?.stop();
    await app?.stop();
  });

  it('Prometheus sees HTTP metrics summed across workers and process metrics per worker', async () => {
    const served = new Map<string, number>();
    await pool(
      Array.from({ length: REQUESTS }, (_, i) => i),
      4,
      async (i) => {
        const r = await request(app.url, `/users/${i}`);
        assert.equal(r.status, 200);
        const w = String(r.headers['x-worker']);
        served.set(w, (served.get(w) ?? 0) + 1);
      },
    );
    // Both workers served part of the traffic, so a total of REQUESTS proves the sum.
    assert.equal(served.size, 2, `requests were not spread over both workers: ${JSON.stringify([...served])}`);

    const total = await waitFor(
      async () => {
        const v = await prom.query('http_server_request_duration_seconds_count{route="/users/:id"}');
        return v.length === 1 && v[0]?.value[1] === String(REQUESTS) ? v : undefined;
      },
      30_000,
      250,
      `Prometheus to store ${REQUESTS} requests summed over the workers`,
    );
    assert.equal(total[0]?.metric.worker, undefined, 'HTTP metrics carry no worker label');
    assert.equal(total[0]?.metric.status_code, '200');

    const rss = await prom.query('process_resident_memory_bytes');
    assert.deepEqual(rss.map((s) => s.metric.worker).sort(), [...app.workers.keys()].sort(), 'one RSS series per worker');
    for (const s of rss) assert.ok(Number(s.value[1]) > 1e6, `worker ${s.metric.worker} reports a plausible RSS`);
    const cpu = await prom.query('count by (worker) (process_cpu_user_seconds_total)');
    assert.equal(cpu.length, 2);

    const responded = await prom.query('observability_cluster_workers{state="responded"}');
    assert.equal(responded[0]?.value[1], '2');
    const up = await prom.query('up');
    assert.equal(up[0]?.value[1], '1');
  });

  it('a hung worker costs one timeout: the scrape answers with the other workers and counts it', async () => {
    const [hungId, otherId] = [...app.workers.keys()];
    // The first scrape may be handed to the hung worker and is given up after SLOW_MS; the next one goes to the
    // healthy worker. The hang outlasts two such attempts with room to spare on a loaded machine (a 6 s hang
    // once ended before the healthy worker's answer in CI, and every later scrape counted no timeout).
    const SLOW_MS = TIMEOUT_MS + 2500;
    app.command(`hang ${hungId} 10000`);
    await new Promise((r) => setTimeout(r, 300));
    const scrape = await waitFor(
      async () => {
        const r = await getWithin(`${app.url}/metrics`, SLOW_MS);
        return r && r.status === 200 && /state="timed_out"\} 1/.test(r.body) ? r : undefined;
      },
      15_000,
      50,
      'a scrape served by the healthy worker while the other one hangs',
    );
    // Bounded by the per-worker timeout, not by the hang (10 s); generous margin for a loaded CI machine.
    assert.ok(scrape.elapsed < SLOW_MS, `scrape took ${scrape.elapsed} ms with a ${TIMEOUT_MS} ms timeout`);
    assert.equal(sampleValue(scrape.body, /^observability_cluster_workers\{state="responded"\}/), 1);
    assert.match(scrape.body, new RegExp(`process_resident_memory_bytes\\{worker="${otherId}"\\}`));
    assert.doesNotMatch(scrape.body, new RegExp(`process_resident_memory_bytes\\{worker="${hungId}"\\}`));
    // The summed counter keeps the hung worker's last answer: it never drops (Prometheus would take a drop for a reset).
    assert.equal(sampleValue(scrape.body, USERS_COUNT), REQUESTS);
  });

  it('a dead worker is left out at once', async () => {
    const [, otherId] = [...app.workers.keys()];
    // Wait for the hung worker to come back, then kill the other one.
    await waitFor(async () => {
      const r = await getWithin(`${app.url}/metrics`, 3000);
      return r && /state="responded"\} 2/.test(r.body);
    }, 20_000, 200, 'both workers to answer again');
    app.command(`kill ${otherId}`);
    const scrape = await waitFor(
      async () => {
        const r = await getWithin(`${app.url}/metrics`, 3000);
        const gone = r && r.status === 200 && !new RegExp(`worker="${otherId}"`).test(r.body);
        // Once the primary has seen the exit, the dead worker is not even asked.
        return gone && /state="timed_out"\} 0/.test(r.body) ? r : undefined;
      },
      15_000,
      100,
      'a scrape without the dead worker',
    );
    assert.equal(sampleValue(scrape.body, /^observability_cluster_workers\{state="responded"\}/), 1);
    assert.ok(scrape.elapsed < TIMEOUT_MS, `a dead worker is not waited for (${scrape.elapsed} ms)`);
    // What the dead worker served stays in the cluster's total.
    assert.equal(sampleValue(scrape.body, USERS_COUNT), REQUESTS);
    const increase = await prom.query('increase(http_server_request_duration_seconds_count{route="/users/:id"}[5m])');
    assert.ok(Number(increase[0]?.value[1]) <= REQUESTS * 1.5, `no false reset in Prometheus: increase() ${increase[0]?.value[1]}`);
  });
});
