import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startElasticsearchStandIn } from './support/elasticsearch-standin';
import { request, waitFor } from './support/http';
import { startLokiStandIn } from './support/loki-standin';
import { startOtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { stopChild } from './support/process';

const FIXTURE = path.join(__dirname, 'fixtures', 'redaction-app.ts');
const KEPT_KEYS = ['passenger', 'author', 'compass', 'bypass', 'tokenizer', 'sessionCount'];

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));

/** Every planted secret found in `text` (values start with PLANTED; the JWT's signature too). */
function leaks(text: string): string[] {
  return [...new Set(text.match(/PLANTED\w*/g) ?? [])];
}

describe('redaction: secrets planted everywhere never leave the process', () => {
  it('stdout, the log file, OTLP spans, Elasticsearch, Loki, /health and every dashboard JSON endpoint hold no planted secret; look-alike keys are kept', async () => {
    const receiver = await startOtlpReceiver();
    const es = await startElasticsearchStandIn();
    const loki = await startLokiStandIn();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-redaction-'));
    const logFile = path.join(dir, 'app.log');
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, OTLP_URL: receiver.tracesUrl, ES_URL: es.url, LOKI_URL: loki.url, LOG_FILE: logFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`fixture exited:\n${stdout}\n${stderr}`);
        return /listening (\d+)/.exec(stdout)?.[1];
      }, 30_000, 50, 'fixture to listen');
      const url = `http://127.0.0.1:${port}`;
      const headers = {
        authorization: 'Bearer PLANTEDbearer0123456789',
        cookie: 'session=PLANTED_HDR_COOKIE; theme=dark',
        'x-api-key': 'PLANTED_HDR_APIKEY',
        'user-agent': 'probe/1.0 token=PLANTED_UA',
      };
      assert.equal((await request(url, '/work?token=PLANTED_Q_AMP&page=2;session=PLANTED_Q_SEMI', { headers })).status, 200);
      assert.equal((await request(url, '/items/7;jsessionid=PLANTED_MATRIX?x=1')).status, 200);
      assert.equal((await request(url, '/oauth/callback?code=PLANTED_OAUTH_CODE&state=PLANTED_OAUTH_STATE')).status, 200);
      assert.equal((await request(url, '/fail?api%5Fkey=PLANTED_Q_ENCODED')).status, 500);

      // Everything the dashboard and /health serve, including each buffered trace.
      const bodies: Record<string, string> = {};
      const get = async (p: string): Promise<string> => (bodies[p] = (await request(url, p)).body);
      const traces = JSON.parse(await get('/dashboard/api/traces')) as { traceId: string }[];
      assert.equal(traces.length, 4, bodies['/dashboard/api/traces']);
      for (const t of traces) {
        await get(`/dashboard/api/traces/${t.traceId}`);
        await get(`/dashboard/api/logs?traceId=${t.traceId}`);
      }
      for (const p of ['/dashboard/api/summary', '/dashboard/api/logs', '/dashboard/api/alerts', '/dashboard/api/routes/detail?method=GET&route=/work', '/health']) await get(p);
      const dashboard = Object.values(bodies).join('\n');

      await receiver.waitForSpans((s) => s.length >= 5, 15_000);
      await waitFor(() => es.documents().length >= 5 && loki.entries.length >= 5, 15_000, 50, 'logs shipped');
      await stopChild(child, exited, 15_000);

      const sinks: Record<string, string> = {
        stdout,
        stderr,
        'log file': readFileSync(logFile, 'utf8'),
        otlp: json(receiver.spans),
        elasticsearch: json(es.documents()),
        loki: json(loki.entries),
        dashboard,
      };
      const found = Object.fromEntries(Object.entries(sinks).flatMap(([name, text]) => (leaks(text).length > 0 ? [[name, leaks(text)]] : [])));
      assert.deepEqual(found, {}, 'planted secrets found, by sink');
      for (const [name, text] of Object.entries(sinks)) {
        if (name !== 'stderr') assert.match(text, /\[REDACTED\]/, `${name} shows that something was redacted`);
      }

      // The positions were really exercised (a missing span or line would also hold no secret).
      const spans = receiver.spans;
      const server = spans.find((s) => s.name === 'GET /work') as ReceivedSpan;
      assert.equal(server.attributes['db.password'], '[REDACTED]');
      assert.equal(server.attributes['db.connection_string'], 'Server=db;User Id=app;Password=[REDACTED];');
      assert.equal(server.attributes['url.query'], 'token=[REDACTED]&page=2;session=[REDACTED]');
      assert.equal(server.attributes['user_agent.original'], 'probe/1.0 token=[REDACTED]');
      const login = server.events.find((e) => e.name === 'login');
      assert.equal(login?.attributes['user.token'], '[REDACTED]');
      assert.equal(login?.attributes.note, 'retry with password=[REDACTED]');
      const childSpan = spans.find((s) => s.name.startsWith('child ')) as ReceivedSpan;
      assert.equal(childSpan.name, 'child GET /internal?api_key=[REDACTED]');
      for (const k of ['apiKey', 'customerNote', 'x-internal-id', 'client_secret']) assert.equal(childSpan.attributes[k], '[REDACTED]', k);
      assert.equal(childSpan.attributes['http.url'], 'https://svc:[REDACTED]@api.example/v1?sig=[REDACTED]');
      const failed = spans.find((s) => s.name === 'GET /fail') as ReceivedSpan;
      const exception = failed.events.find((e) => e.name === 'exception');
      assert.equal(exception?.attributes['exception.message'], 'upstream failed for /v1?token=[REDACTED];sid=[REDACTED] with password=[REDACTED]');
      assert.match(String(exception?.attributes['exception.stacktrace']), /password=\[REDACTED\]/);
      assert.equal(failed.status.message, 'upstream failed for /v1?token=[REDACTED];sid=[REDACTED] with password=[REDACTED]');
      assert.equal(spans.find((s) => s.name === 'GET /items/:id')?.attributes['url.path'], '/items/7;jsessionid=[REDACTED]');
      assert.equal(spans.find((s) => s.name === 'GET /oauth/callback')?.attributes['url.query'], 'code=[REDACTED]&state=[REDACTED]');
      assert.match(bodies['/health'] as string, /postgres:\/\/app:\[REDACTED\]@db:5432/);

      // Keys that merely contain secret letters keep their values, in logs and spans alike.
      const handling = readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('"message":"handling'));
      const line = JSON.parse(handling as string) as Record<string, unknown>;
      const childAttrs = childSpan.attributes;
      for (const k of KEPT_KEYS) {
        assert.equal(line[k], `KEPT_${k}`, `log field ${k}`);
        assert.equal(server.attributes[`app.${k}`], `KEPT_${k}`, `span attribute app.${k}`);
        assert.equal(login?.attributes[k], `KEPT_${k}`, `event attribute ${k}`);
        assert.equal(childAttrs[k], `KEPT_${k}`, `withSpan attribute ${k}`);
      }
      assert.equal((line.user as Record<string, unknown>).name, 'ann');
      assert.equal((line.headers as Record<string, unknown>).cookie, '[REDACTED]');
    } finally {
      if (child.exitCode === null) await stopChild(child, exited, 5000);
      await receiver.close();
      await es.stop();
      await loki.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
