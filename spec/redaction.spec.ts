import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { captureLogs } from './support/log-capture';
import { startElasticsearchStandIn } from './support/elasticsearch-standin';
import { listen, request, waitFor } from './support/http';
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
  it('stdout, the log file, OTLP spans and logs, Elasticsearch, Loki, /health and every dashboard JSON endpoint hold no planted secret; look-alike keys are kept', async () => {
    const receiver = await startOtlpReceiver();
    const es = await startElasticsearchStandIn();
    const loki = await startLokiStandIn();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-redaction-'));
    const logFile = path.join(dir, 'app.log');
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, OTLP_URL: receiver.tracesUrl, OTLP_LOGS_URL: receiver.logsUrl, ES_URL: es.url, LOKI_URL: loki.url, LOG_FILE: logFile },
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
      // A JWT right after a percent-escape (an OAuth id_token in an encoded redirect), a key with a digit glued on.
      const ENCODED_JWT = 'next=%2Fapp%23id_token%3DeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.PLANTEDencodedJwt';
      assert.equal((await request(url, `/items/8?${ENCODED_JWT}&password2=PLANTED_Q_DIGIT&h=Bearer%20PLANTEDbearerInUrl01`)).status, 200);

      // Everything the dashboard and /health serve, including each buffered trace.
      const bodies: Record<string, string> = {};
      const get = async (p: string): Promise<string> => (bodies[p] = (await request(url, p)).body);
      const traces = JSON.parse(await get('/dashboard/api/traces')) as { traceId: string }[];
      assert.equal(traces.length, 5, bodies['/dashboard/api/traces']);
      for (const t of traces) {
        await get(`/dashboard/api/traces/${t.traceId}`);
        await get(`/dashboard/api/logs?traceId=${t.traceId}`);
      }
      for (const p of ['/dashboard/api/summary', '/dashboard/api/logs', '/dashboard/api/alerts', '/dashboard/api/routes/detail?method=GET&route=/work', '/health']) await get(p);
      const dashboard = Object.values(bodies).join('\n');

      await receiver.waitForSpans((s) => s.length >= 5, 15_000);
      await receiver.waitForLogs((l) => l.length >= 5, 15_000);
      await waitFor(() => es.documents().length >= 5 && loki.entries.length >= 5, 15_000, 50, 'logs shipped');
      await stopChild(child, exited, 15_000);

      const sinks: Record<string, string> = {
        stdout,
        stderr,
        'log file': readFileSync(logFile, 'utf8'),
        otlp: json(receiver.spans),
        'otlp logs': json(receiver.logs),
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
      const encoded = spans.find((s) => s.attributes['url.path'] === '/items/8') as ReceivedSpan;
      assert.equal(encoded.attributes['url.query'], 'next=%2Fapp%23id_token%3D[REDACTED]&password2=[REDACTED]&h=Bearer%20[REDACTED]');
      assert.ok(server.events.some((e) => e.name === 'retrying https://svc.example/cb?access_token=[REDACTED]'), 'event name redacted');
      assert.ok(childSpan.events.some((e) => e.name === 'login password=[REDACTED]'), 'event name redacted on a span of the provider');
      assert.equal(server.attributes['db.url'], 'postgres://app:[REDACTED]@db.internal:5432/app');
      assert.equal(server.attributes['app.config'], "bad db config { user: 'app', password: `[REDACTED]` }");
      assert.match(bodies['/health'] as string, /postgres:\/\/app:\[REDACTED\]@db:5432/);
      assert.match(bodies['/health'] as string, /redis:\/\/:\[REDACTED\]@cache:6379/);

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
      assert.equal(line.password2, '[REDACTED]');
      assert.equal(line.new_password2, '[REDACTED]');
    } finally {
      if (child.exitCode === null) await stopChild(child, exited, 5000);
      await receiver.close();
      await es.stop();
      await loki.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Serve `paths` through `obs` with a route that sets `attrs` on the request's span and logs them; flush. */
async function serve(obs: Observability, paths: readonly string[], attrs: Record<string, string>, fail = false): Promise<void> {
  const app = express();
  app.use(obs.middleware);
  app.get('/r', (req, res) => {
    for (const [k, v] of Object.entries(attrs)) obs.tracing.setAttribute(k, v);
    obs.tracing.withSpan('inner', () => undefined, { attributes: attrs });
    req.log.info('fields', attrs);
    if (fail) throw new Error('failed with password=PLANTED_GLOBAL_ERR');
    res.json({});
  });
  app.use(obs.errorHandler);
  app.use((_err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).end();
  });
  const server = await listen(app);
  try {
    for (const p of paths) await request(server.url, p);
    await obs.tracing.forceFlush();
  } finally {
    await server.close();
  }
}

describe('redaction: the policy is configurable, validated, and one for logs and spans', () => {
  it('redaction.add / redaction.remove and logging.redact change what logs, span attributes and url.query redact', async () => {
    const receiver = await startOtlpReceiver();
    const cap = captureLogs();
    const obs = createObservability({
      serviceName: 'policy',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20 },
      logging: { stdout: false, transports: [cap.transport], redact: ['legacyKey'] },
      redaction: { add: ['ssn', /^x-tenant-/i], remove: ['session', 'Pass'] },
    });
    const attrs = { session: 'KEPT_session', smtpPass: 'KEPT_pass', sessionId: 'S_sessionid', userSsn: 'S_ssn', legacyKey: 'S_legacy', 'x-tenant-key': 'S_tenant', password: 'S_password' };
    try {
      await serve(obs, ['/r?session=KEPT_q&ssn=S_q&sessionId=S_q2'], attrs);
      const spans = await receiver.waitForSpans((s) => s.length >= 2);
      const line = cap.lines().find((l) => l.message === 'fields') as Record<string, unknown>;
      const server = spans.find((s) => s.name === 'GET /r') as ReceivedSpan;
      const inner = spans.find((s) => s.name === 'inner') as ReceivedSpan;
      for (const where of [line, server.attributes, inner.attributes] as Record<string, unknown>[]) {
        assert.equal(where.session, 'KEPT_session', 'a removed built-in term is kept');
        assert.equal(where.smtpPass, 'KEPT_pass', 'removal is case-insensitive');
        for (const k of ['sessionId', 'userSsn', 'legacyKey', 'x-tenant-key', 'password']) assert.equal(where[k], '[REDACTED]', k);
      }
      assert.equal(server.attributes['url.query'], 'session=KEPT_q&ssn=[REDACTED]&sessionId=[REDACTED]');
      const access = cap.lines().find((l) => l.type === 'access');
      assert.equal(access?.path, '/r?session=KEPT_q&ssn=[REDACTED]&sessionId=[REDACTED]');
    } finally {
      await obs.shutdown();
      await receiver.close();
    }
  });

  it('invalid redaction options fail at construction naming the option', () => {
    const make = (redaction: unknown, redact?: unknown) => () =>
      createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false, ...(redact ? { redact } : {}) }, redaction } as never);
    assert.throws(make({ remove: ['sesion'] }), (e: Error) => e instanceof RangeError && /"redaction\.remove\[0\]" must be a built-in term \(password, /.test(e.message));
    assert.throws(make({ remove: 'session' }), (e: Error) => e instanceof TypeError && /"redaction\.remove"/.test(e.message));
    assert.throws(make({ add: [42] }), (e: Error) => e instanceof TypeError && /"redaction\.add\[0\]"/.test(e.message));
    assert.throws(make({ add: ['  '] }), (e: Error) => e instanceof RangeError && /"redaction\.add\[0\]"/.test(e.message));
    assert.throws(make(undefined, ['']), (e: Error) => e instanceof RangeError && /"logging\.redact\[0\]"/.test(e.message));
    assert.throws(make({ keys: [] }), (e: Error) => e instanceof TypeError && /unknown option "redaction\.keys"/.test(e.message));
  });

  it("spans of an application-owned global provider are redacted where the package records them (no processor of ours runs there)", async () => {
    const receiver = await startOtlpReceiver();
    const appProvider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'app-owned' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: receiver.tracesUrl }))],
    });
    assert.equal(trace.setGlobalTracerProvider(appProvider), true);
    const obs = createObservability({ serviceName: 'ours', metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false } });
    try {
      assert.equal(obs.tracing.usesGlobalProvider, true);
      await serve(obs, ['/r?token=PLANTED_GLOBAL_QUERY', '/r;jsessionid=PLANTED_GLOBAL_MATRIX'], { 'db.password': 'PLANTED_GLOBAL_ATTR', note: 'password=PLANTED_GLOBAL_TEXT', passenger: 'KEPT' }, true);
      await appProvider.forceFlush();
      const spans = await receiver.waitForSpans((s) => s.filter((x) => x.name === 'inner').length >= 1 && s.filter((x) => x.kind === 2).length >= 2);
      assert.deepEqual(leaks(json(spans)), []);
      const inner = spans.find((s) => s.name === 'inner') as ReceivedSpan;
      assert.equal(inner.attributes['db.password'], '[REDACTED]');
      assert.equal(inner.attributes.passenger, 'KEPT');
      const failed = spans.find((s) => s.kind === 2 && s.attributes['url.path'] === '/r');
      assert.equal(failed?.status.message, 'failed with password=[REDACTED]');
      assert.equal(spans.find((s) => s.kind === 2 && s.attributes['url.path'] !== '/r')?.attributes['url.path'], '/r;jsessionid=[REDACTED]');
    } finally {
      await obs.shutdown();
      trace.disable();
      await appProvider.shutdown();
      await receiver.close();
    }
  });
});

describe('redaction: text rules on their edges', () => {
  it('a JWT is found at a word start or after a percent-escape, not inside a word (each eyJ of a word would start a scan)', async () => {
    const { Redactor } = await import('../lib/redaction/redactor');
    const r = new Redactor();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    assert.equal(r.text(`token ${jwt}`), 'token [REDACTED]');
    assert.equal(r.text(`next=%2Fapp%23id_token%3D${jwt}`), 'next=%2Fapp%23id_token%3D[REDACTED]');
    assert.equal(r.text(`x${jwt}`), `x${jwt}`, 'inside a word: not a token boundary');
    const long = 'eyJ'.repeat(17_000);
    assert.equal(r.text(long), long);
  });

  it('URL credentials that are not valid percent-encoding are sent as written (no URIError at construction)', async () => {
    const { HttpPoster } = await import('../lib/logging/http-post');
    assert.doesNotThrow(() => new HttpPoster(new URL('http://user:100%@127.0.0.1:9')).close());
  });
});
