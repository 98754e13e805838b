/**
 * logging.spool and the shutdown loss report, with real processes (spec/fixtures/spool-app.ts) shipping
 * to the Elasticsearch and Loki stand-ins: crash (kill -9) during an outage and replay at the next start,
 * a torn last record, the maxBytes bound, SIGTERM during an outage without a spool, two processes on
 * one directory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createObservability, SpoolLockedError } from '../lib';
import { startElasticsearchStandIn } from './support/elasticsearch-standin';
import { samples } from './support/exposition';
import { request, waitFor } from './support/http';
import { startLokiStandIn } from './support/loki-standin';
import { startLoopbackServer } from './support/loopback-server';
import { spawnFixture, stopChild, type Fixture } from './support/process';

const FIXTURE = path.join(__dirname, 'fixtures', 'spool-app.ts');
const LINES = 5000;
const started: Fixture[] = [];
const dirs: string[] = [];

after(() => {
  for (const f of started) if (f.child.exitCode === null && f.child.signalCode === null) f.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'eo-spool-'));
  dirs.push(d);
  return d;
}

async function startApp(env: Record<string, string>): Promise<{ fx: Fixture; url: string }> {
  const fx = spawnFixture(FIXTURE, env);
  started.push(fx);
  const port = await waitFor(
    () => {
      if (fx.child.exitCode !== null) throw new Error(`fixture exited:\n${fx.output()}`);
      return /listening (\d+)/.exec(fx.output())?.[1];
    },
    30_000,
    50,
    'the fixture to listen',
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => fx.output().includes('logged '), 30_000, 20, 'the fixture to log its lines');
  return { fx, url };
}

async function metric(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const found = samples((await request(url, '/metrics')).body, name, labels);
  return found.reduce((sum, s) => sum + s.value, 0);
}

async function kill9(fx: Fixture): Promise<void> {
  fx.child.kill('SIGKILL');
  await fx.exited;
}

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Log LINES lines during an outage with a spool, wait until all are on disk, kill -9. */
async function crashDuringOutage(backend: 'ES_URL' | 'LOKI_URL', backendUrl: string, transport: string, dir: string): Promise<void> {
  const a = await startApp({ [backend]: backendUrl, SPOOL_DIR: dir, LINES: String(LINES) });
  await waitFor(
    async () =>
      (await metric(a.url, 'observability_log_spool_lines', { transport })) === LINES &&
      (await metric(a.url, 'observability_log_spool_unwritten_bytes', { transport })) === 0,
    40_000,
    50,
    `${LINES} lines written to the spool`,
  );
  await kill9(a.fx);
}

/** Start again with the backend up, wait until `count()` reaches `expected` and the spool is empty, stop (exit 0). */
async function restartAndDrain(env: Record<string, string>, transport: string, count: () => number, expected: number): Promise<{ url: string; fx: Fixture }> {
  const b = await startApp({ ...env, LINES: '0' });
  await waitFor(() => count() >= expected, 30_000, 50, `${expected} lines at the backend`);
  await waitFor(async () => (await metric(b.url, 'observability_log_spool_segments', { transport })) === 0, 30_000, 50, 'the spool to empty');
  return b;
}

describe('logging.spool (child processes)', () => {
  it('Elasticsearch outage, 5,000 lines, kill -9, backend back, restart: 5,000 distinct lines, none twice (the dead pid’s lock is taken over)', async () => {
    const es = await startElasticsearchStandIn();
    const dir = tempDir();
    try {
      await es.refuse();
      await crashDuringOutage('ES_URL', es.url, 'elasticsearch', dir);
      assert.equal(es.documents().length, 0);
      assert.equal(segments(path.join(dir, 'elasticsearch')).length > 0, true);
      await es.reopen();
      const b = await restartAndDrain({ ES_URL: es.url, SPOOL_DIR: dir }, 'elasticsearch', () => es.documents().length, LINES);
      const messages = es.documents().map((d) => d.message);
      assert.equal(messages.length, LINES);
      assert.equal(new Set(messages).size, LINES);
      assert.deepEqual(new Set(es.documents().map((d) => d.n)), new Set(Array.from({ length: LINES }, (_, i) => i)));
      await stopChild(b.fx.child, b.fx.exited);
      assert.equal(await b.fx.exited, 0, b.fx.output());
      assert.deepEqual(segments(path.join(dir, 'elasticsearch')), []);
      assert.deepEqual(readdirSync(dir).sort(), ['elasticsearch'], 'the lock is released');
    } finally {
      await es.stop();
    }
  });

  it('Loki: 1,000 lines delivered, then an outage, 4,000 more, kill -9, Loki back, restart: each entry received once (acknowledged lines are not sent again), with its original timestamp', async () => {
    const loki = await startLokiStandIn();
    const dir = tempDir();
    const t = { transport: 'loki' };
    try {
      const a = await startApp({ LOKI_URL: loki.url, SPOOL_DIR: dir, LINES: '1000' });
      await waitFor(async () => loki.entries.length === 1000 && (await metric(a.url, 'observability_log_spool_lines', t)) === 0, 40_000, 50, '1,000 lines acknowledged');
      await loki.refuse();
      assert.equal((await request(a.url, `/log?from=1000&count=${LINES - 1000}`)).status, 200);
      await waitFor(
        async () => (await metric(a.url, 'observability_log_spool_lines', t)) === LINES - 1000 && (await metric(a.url, 'observability_log_spool_unwritten_bytes', t)) === 0,
        40_000,
        50,
        'the outage’s lines written to the spool',
      );
      // One segment holds all 5,000 lines: only its ack file keeps the first 1,000 from being sent again.
      assert.equal(segments(path.join(dir, 'loki')).length, 1);
      await kill9(a.fx);
      await loki.reopen();
      const b = await restartAndDrain({ LOKI_URL: loki.url, SPOOL_DIR: dir }, 'loki', () => loki.entries.length, LINES);
      const lines = loki.entries.map((e) => e.line);
      assert.equal(lines.length, LINES);
      assert.equal(new Set(lines).size, LINES);
      assert.equal(new Set(loki.entries.map((e) => e.ts)).size, LINES);
      await stopChild(b.fx.child, b.fx.exited);
      assert.equal(await b.fx.exited, 0, b.fx.output());
    } finally {
      await loki.stop();
    }
  });

  it('sync: "always": a line is on disk when log() returns (kill -9 right after logging loses nothing)', async () => {
    const es = await startElasticsearchStandIn();
    const dir = tempDir();
    try {
      await es.refuse();
      const a = await startApp({ ES_URL: es.url, SPOOL_DIR: dir, SPOOL_SYNC: 'always', LINES: '300' });
      await kill9(a.fx);
      await es.reopen();
      const b = await restartAndDrain({ ES_URL: es.url, SPOOL_DIR: dir }, 'elasticsearch', () => es.documents().length, 300);
      assert.equal(new Set(es.documents().map((d) => d.n)).size, 300);
      assert.equal(es.documents().length, 300);
      await stopChild(b.fx.child, b.fx.exited);
    } finally {
      await es.stop();
    }
  });

  it('the spool holds what the memory queue cannot: maxQueueBytes 64 KiB, outage, 5,000 lines, none dropped; backend back: all delivered once, in order', async () => {
    const es = await startElasticsearchStandIn();
    const dir = tempDir();
    const t = { transport: 'elasticsearch' };
    try {
      await es.refuse();
      const a = await startApp({ ES_URL: es.url, SPOOL_DIR: dir, MAX_QUEUE_BYTES: String(64 * 1024), LINES: String(LINES) });
      await waitFor(async () => (await metric(a.url, 'observability_log_spool_lines', t)) === LINES, 40_000, 50, `${LINES} lines in the spool`);
      assert.equal(await metric(a.url, 'observability_log_lines_dropped_total', t), 0);
      assert.ok((await metric(a.url, 'observability_log_queue_bytes', t)) <= 64 * 1024);
      await es.reopen();
      await waitFor(async () => es.documents().length >= LINES && (await metric(a.url, 'observability_log_spool_segments', t)) === 0, 30_000, 50, 'every line delivered, the spool empty');
      assert.deepEqual(
        es.documents().map((d) => d.n),
        Array.from({ length: LINES }, (_, i) => i),
      );
      assert.equal(await metric(a.url, 'observability_log_lines_dropped_total', t), 0);
      await stopChild(a.fx.child, a.fx.exited);
      assert.equal(await a.fx.exited, 0, a.fx.output());
    } finally {
      await es.stop();
    }
  });

  it('a line larger than maxQueueBytes goes to disk and is delivered from there, not dropped', async () => {
    const es = await startElasticsearchStandIn();
    const dir = tempDir();
    const obs = createObservability({
      serviceName: 'spool-big',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false, spool: { dir }, elasticsearch: { url: es.url, index: 'big', maxQueueBytes: 64 * 1024, flushIntervalMs: 20 } },
    });
    try {
      obs.logger.info('small before', { n: 0 });
      obs.logger.info('big', { n: 1, pad: 'x'.repeat(100 * 1024) });
      obs.logger.info('small after', { n: 2 });
      await waitFor(() => es.documents().length >= 3, 10_000, 20, 'three lines at the backend');
      assert.deepEqual(es.documents().map((d) => d.n).sort(), [0, 1, 2]);
      assert.equal(String(es.documents().find((d) => d.n === 1)?.pad).length, 100 * 1024);
      const text = await obs.registry.metrics();
      assert.deepEqual(samples(text, 'observability_log_lines_dropped_total', { transport: 'elasticsearch' }).filter((x) => x.value > 0), []);
    } finally {
      await obs.shutdown();
      await es.stop();
    }
  });

  it('a torn final record (crash in the middle of a write) is skipped and counted; every whole line arrives once', async () => {
    const es = await startElasticsearchStandIn();
    const dir = tempDir();
    try {
      await es.refuse();
      await crashDuringOutage('ES_URL', es.url, 'elasticsearch', dir);
      const last = segments(path.join(dir, 'elasticsearch')).pop() as string;
      truncateSync(last, statSync(last).size - 40);
      await es.reopen();
      const b = await restartAndDrain({ ES_URL: es.url, SPOOL_DIR: dir }, 'elasticsearch', () => es.documents().length, LINES - 1);
      const ns = es.documents().map((d) => d.n as number);
      assert.equal(ns.length, LINES - 1);
      assert.equal(new Set(ns).size, LINES - 1);
      assert.equal(ns.includes(LINES - 1), false, 'the last line was the torn one');
      assert.equal(await metric(b.url, 'observability_log_lines_dropped_total', { transport: 'elasticsearch', reason: 'spool_torn' }), 1);
      assert.match(b.fx.output(), /ends in a torn record/);
      await stopChild(b.fx.child, b.fx.exited);
      assert.equal(await b.fx.exited, 0, b.fx.output());
    } finally {
      await es.stop();
    }
  });

  it('maxBytes reached: the lines past it are dropped, counted exactly, dead-lettered, warned about, and the health check says the spool is over half full', async () => {
    const es = await startElasticsearchStandIn();
    const dir = tempDir();
    const total = 1000;
    try {
      await es.refuse();
      const env = { ES_URL: es.url, SPOOL_DIR: dir, SPOOL_MAX_BYTES: String(64 * 1024) };
      const a = await startApp({ ...env, LINES: String(total) });
      const t = { transport: 'elasticsearch' };
      await waitFor(
        async () => (await metric(a.url, 'observability_log_spool_lines', t)) > 0 && (await metric(a.url, 'observability_log_spool_unwritten_bytes', t)) === 0,
        30_000,
        50,
        'the spool written',
      );
      const dropped = await metric(a.url, 'observability_log_lines_dropped_total', { ...t, reason: 'spool_full' });
      const kept = await metric(a.url, 'observability_log_spool_lines', t);
      assert.ok(dropped > 0 && kept > 0, `dropped ${dropped}, kept ${kept}`);
      assert.equal(dropped + kept, total);
      const health = JSON.parse((await request(a.url, '/health')).body) as { checks: Record<string, Array<{ status: string; output: string }>> };
      const check = health.checks['log-shipping:elasticsearch']?.[0];
      assert.equal(check?.status, 'warn');
      assert.match(check?.output ?? '', /spool \d+ bytes in \d+ segments \(\d+\.\d% of logging\.spool\.maxBytes, over half full\)/);
      // SIGTERM during the outage: what is spooled is kept, not lost (exit 0).
      await stopChild(a.fx.child, a.fx.exited, 20_000);
      assert.equal(await a.fx.exited, 0, a.fx.output());
      assert.match(a.fx.output(), /spool .* is full \(logging\.spool\.maxBytes\); new lines are dropped/);
      assert.match(a.fx.output(), new RegExp(`kept in the spool for the next start: elasticsearch: ${kept} log lines`));
      assert.match(a.fx.output(), new RegExp(`dead-lettered=${dropped}\\b`));
      await es.reopen();
      const b = await restartAndDrain(env, 'elasticsearch', () => es.documents().length, kept);
      assert.equal(es.documents().length, kept);
      assert.equal(new Set(es.documents().map((d) => d.n)).size, kept);
      await stopChild(b.fx.child, b.fx.exited);
    } finally {
      await es.stop();
    }
  });

  it('SIGTERM during an outage without a spool: the loss per destination on stderr, every line dead-lettered, exit code 1 (a logging.shutdownTimeoutMs past the old 10 s step cap)', async () => {
    const es = await startElasticsearchStandIn();
    const otlp = await startLoopbackServer((_req, res) => res.end());
    await otlp.stop();
    try {
      await es.refuse();
      // 10.5 s: beyond the 10 s per-step cap that used to cut the drain short (and exit 0).
      const a = await startApp({ ES_URL: es.url, OTLP_URL: `${otlp.url}/v1/traces`, LINES: String(LINES), SPANS: '20', SHUTDOWN_TIMEOUT_MS: '10500' });
      a.fx.child.kill('SIGTERM');
      const code = await a.fx.exited;
      const out = a.fx.output();
      assert.equal(code, 1, out);
      assert.match(out, /shutdown: NOT DELIVERED \(lost\): .*otlp: 20 spans/);
      assert.match(out, new RegExp(`shutdown: NOT DELIVERED \\(lost\\): .*elasticsearch: ${LINES} log lines`));
      assert.match(out, new RegExp(`shutdown done code=1 forced=false dead-lettered=${LINES}\\b`));
      assert.equal(es.documents().length, 0);
    } finally {
      await es.stop();
    }
  });

  it('a forced shutdown (attachShutdown.timeoutMs before the drain ends) still reports, dead-letters and counts what it abandons', async () => {
    const es = await startElasticsearchStandIn();
    try {
      await es.refuse();
      const a = await startApp({ ES_URL: es.url, LINES: '2000', SHUTDOWN_TIMEOUT_MS: '30000', ATTACH_TIMEOUT_MS: '1500' });
      a.fx.child.kill('SIGTERM');
      assert.equal(await a.fx.exited, 1, a.fx.output());
      const out = a.fx.output();
      assert.match(out, /shutdown: NOT DELIVERED \(lost\): elasticsearch: 2000 log lines/);
      assert.match(out, /shutdown done code=1 forced=true dead-lettered=2000\b/);
    } finally {
      await es.stop();
    }
  });

  it('a second process on the same spool directory is refused with an error naming the directory and the holder', async () => {
    const es = await startElasticsearchStandIn();
    const dir = tempDir();
    try {
      const a = await startApp({ ES_URL: es.url, SPOOL_DIR: dir, LINES: '10' });
      const b = spawnFixture(FIXTURE, { ES_URL: es.url, SPOOL_DIR: dir, LINES: '10' });
      started.push(b);
      const code = await b.exited;
      assert.notEqual(code, 0);
      assert.match(b.output(), new RegExp(`logging\\.spool\\.dir "${dir.replace(/[/\\.]/g, '\\$&')}" is in use by process ${a.fx.child.pid}`));
      await stopChild(a.fx.child, a.fx.exited);
      assert.equal(await a.fx.exited, 0, a.fx.output());
      // Released at shutdown: the next process takes the directory.
      const c = await startApp({ ES_URL: es.url, SPOOL_DIR: dir, LINES: '0' });
      await stopChild(c.fx.child, c.fx.exited);
      assert.equal(await c.fx.exited, 0, c.fx.output());
      assert.equal(es.documents().length, 10);
    } finally {
      await es.stop();
    }
  });
});

describe('logging.spool lock file (in process)', () => {
  const options = (dir: string) => ({
    system: { enabled: false },
    tracing: { enabled: false },
    logging: { stdout: false, elasticsearch: { url: 'http://127.0.0.1:9' }, spool: { dir } },
  });

  it('a lock left by an earlier process with this same pid (a restarted container) is taken over; a second instance in this process is refused', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'LOCK'), `${process.pid} 0123456789abcdef\n`);
    const obs = createObservability(options(dir));
    assert.match(readFileSync(path.join(dir, 'LOCK'), 'utf8'), new RegExp(`^${process.pid} [0-9a-f]{16}\n$`));
    assert.doesNotMatch(readFileSync(path.join(dir, 'LOCK'), 'utf8'), /0123456789abcdef/);
    assert.throws(
      () => createObservability(options(dir)),
      (err: unknown) => err instanceof SpoolLockedError && err.dir === dir && err.pid === process.pid && err.message.includes(`"${dir}" is in use by process ${process.pid}`),
    );
    const report = await obs.shutdown();
    assert.deepEqual(report.undelivered, []);
    assert.deepEqual(readdirSync(dir), ['elasticsearch'], 'the lock is released');
  });
});
