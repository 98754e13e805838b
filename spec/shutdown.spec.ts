import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startElasticsearchStandIn } from './support/elasticsearch-standin';
import { request, waitFor, type RawResponse } from './support/http';
import { startOtlpReceiver } from './support/otlp-receiver';
import { spawnFixture, type Fixture } from './support/process';

const FIXTURE = path.join(__dirname, 'fixtures', 'shutdown-app.ts');

function spawnShutdownFixture(env: Record<string, string>): Fixture {
  return spawnFixture(FIXTURE, env);
}

/** Try to open a TCP connection and send one request; resolves with the error code when refused. */
function connectError(url: string, p: string): Promise<string | undefined> {
  return request(url, p).then(
    () => undefined,
    (err: NodeJS.ErrnoException) => err.code ?? String(err),
  );
}

describe('graceful shutdown (child process)', () => {
  it('a script that only creates and shuts down an instance exits by itself', async () => {
    const c = spawnShutdownFixture({ FIXTURE: 'create-only' });
    const killer = setTimeout(() => c.child.kill('SIGKILL'), 20_000);
    const code = await c.exited;
    clearTimeout(killer);
    assert.equal(code, 0, c.output());
    assert.match(c.output(), /shutdown resolved/);
  });

  it('SIGTERM: readiness 503 at once, in-flight requests complete, new connections refused after the grace period, spans and logs flushed, exit 0', async () => {
    const receiver = await startOtlpReceiver();
    const es = await startElasticsearchStandIn();
    const c = spawnShutdownFixture({ FIXTURE: 'server', OTLP_URL: receiver.tracesUrl, ES_URL: es.url, SLOW_MS: '3000', GRACE_MS: '500' });
    const killer = setTimeout(() => c.child.kill('SIGKILL'), 60_000);
    try {
      const port = await waitFor(() => {
        if (c.child.exitCode !== null) throw new Error(`fixture exited:\n${c.output()}`);
        return /listening (\d+)/.exec(c.output())?.[1];
      }, 30_000, 50, 'fixture to listen');
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await request(url, '/health/ready')).status, 200);

      // On keep-alive connections: their responses would otherwise invite the client to reuse them.
      const inflightAgent = new http.Agent({ keepAlive: true, maxSockets: 50 });
      const inflight: Promise<RawResponse>[] = Array.from({ length: 50 }, (_, n) => request(url, `/slow?n=${n}`, { agent: inflightAgent }));
      await waitFor(async () => JSON.parse((await request(url, '/started')).body).started === 50, 10_000, 20, '50 requests in flight');

      const t0 = Date.now();
      c.child.kill('SIGTERM');
      const ready = await waitFor(async () => {
        const r = await request(url, '/health/ready');
        return r.status === 503 ? r : undefined;
      }, 5000, 2, 'readiness 503');
      const readinessMs = Date.now() - t0;
      assert.ok(readinessMs <= 100, `readiness answered 503 after ${readinessMs} ms`);
      assert.equal(JSON.parse(ready.body).status, 'fail');

      // During the grace period the server still accepts, but asks keep-alive clients to go away.
      const agent = new http.Agent({ keepAlive: true });
      const during = await request(url, '/quick', { agent });
      agent.destroy();
      assert.equal(during.status, 200);
      assert.equal(during.headers.connection, 'close');

      // After the grace period (500 ms) new connections are refused while in-flight requests still run.
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + 900 - Date.now())));
      assert.equal(c.child.exitCode, null, 'still draining');
      assert.equal(await connectError(url, '/quick'), 'ECONNREFUSED');

      const done = await Promise.all(inflight);
      assert.deepEqual(done.map((r) => r.status), Array(50).fill(200));
      // In flight when the signal came: their connections close too, so no client reuses one the sweep is closing.
      assert.deepEqual(done.map((r) => r.headers.connection), Array(50).fill('close'));
      inflightAgent.destroy();
      const code = await c.exited;
      assert.equal(code, 0, c.output());
      assert.match(c.output(), /beforeShutdown hook ran[\s\S]*shutdown done code=0 forced=false/);

      // Flushed by shutdown (the fixture's export/flush intervals are 10 minutes).
      const slowSpans = receiver.spans.filter((s) => s.name === 'GET /slow');
      assert.equal(slowSpans.length, 50);
      const logged = es.documents().filter((d) => d.message === 'slow request done');
      assert.equal(logged.length, 50);
    } finally {
      clearTimeout(killer);
      if (c.child.exitCode === null) c.child.kill('SIGKILL');
      await receiver.close();
      await es.stop();
    }
  });

  it('a second signal forces the exit with code 1', async () => {
    const c = spawnShutdownFixture({ FIXTURE: 'server', OTLP_URL: 'http://127.0.0.1:9/v1/traces', ES_URL: 'http://127.0.0.1:9', SLOW_MS: '30000', GRACE_MS: '200' });
    const killer = setTimeout(() => c.child.kill('SIGKILL'), 60_000);
    try {
      const port = await waitFor(() => /listening (\d+)/.exec(c.output())?.[1], 30_000, 50, 'fixture to listen');
      const url = `http://127.0.0.1:${port}`;
      const hanging = request(url, '/slow?n=1').then(
        (r) => r.status,
        (err: NodeJS.ErrnoException) => err.code,
      );
      await waitFor(async () => JSON.parse((await request(url, '/started')).body).started === 1, 10_000, 20, 'request in flight');
      c.child.kill('SIGTERM');
      await waitFor(async () => (await request(url, '/health/ready')).status === 503, 5000, 5, 'readiness 503');
      c.child.kill('SIGTERM');
      assert.equal(await c.exited, 1);
      assert.match(c.output(), /shutdown done code=1 forced=true/);
      assert.equal(await hanging, 'ECONNRESET');
    } finally {
      clearTimeout(killer);
      if (c.child.exitCode === null) c.child.kill('SIGKILL');
    }
  });
});
