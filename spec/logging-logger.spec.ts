import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import connect from 'connect';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { listen, pool, request, type Listening } from './support/http';
import { captureLogs, type LogCapture } from './support/log-capture';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function build(logging: Record<string, unknown> = {}): { obs: Observability; cap: LogCapture } {
  const cap = captureLogs();
  const obs = createObservability({
    serviceName: 'log-svc',
    metrics: { defaultMetrics: false },
    system: { enabled: false },
    logging: { stdout: false, transports: [cap.transport], ...logging },
  } as never);
  return { obs, cap };
}

describe('obs.logger: line shape, levels, errors', () => {
  it('writes timestamp, level, message, service first, then the caller fields', async () => {
    const { obs, cap } = build({ level: 'debug' });
    obs.logger.info('order placed', { orderId: 42, items: ['a', 'b'] });
    obs.logger.debug('dbg');
    obs.logger.warning('seed alias');
    obs.logger.error('bad thing');
    const raw = cap.raw();
    assert.equal(raw.length, 4);
    assert.match(raw[0] ?? '', /^\{"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"info","message":"order placed","service":"log-svc","orderId":42,"items":\["a","b"\]\}$/);
    assert.deepEqual(cap.lines().map((l) => l.level), ['info', 'debug', 'warn', 'error']);
    assert.equal(cap.lines().some((l) => 'trace_id' in l), false, 'no trace id outside a span');
    await obs.shutdown();
  });

  it('honours the level and child() fields (warning keeps the child fields)', async () => {
    const { obs, cap } = build({ level: 'warn' });
    obs.logger.info('hidden');
    const child = obs.logger.child({ tenant: 't1' });
    child.warning('from child');
    child.child({ step: 2 }).error('grandchild');
    const lines = cap.lines();
    assert.deepEqual(lines.map((l) => [l.message, l.tenant, l.step]), [['from child', 't1', undefined], ['grandchild', 't1', 2]]);
    await obs.shutdown();
  });

  it('serialises errors anywhere with name, message, stack and the cause chain', async () => {
    const { obs, cap } = build();
    const root = Object.assign(new RangeError('disk full'), { code: 'ENOSPC' });
    const err = new Error('save failed', { cause: new TypeError('wrapper', { cause: root }) });
    obs.logger.error('saving', err);
    obs.logger.error(err);
    obs.logger.warn('nested', { job: { attempts: [err] } });
    const [a, b, c] = cap.lines() as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(a?.message, 'saving');
    for (const e of [a?.error, b?.error, c?.job.attempts[0]]) {
      assert.equal(e.name, 'Error');
      assert.equal(e.message, 'save failed');
      assert.match(e.stack, /^Error: save failed\n\s+at /);
      assert.equal(e.cause.name, 'TypeError');
      assert.equal(e.cause.cause.name, 'RangeError');
      assert.equal(e.cause.cause.code, 'ENOSPC');
      assert.match(e.cause.cause.stack, /RangeError: disk full/);
    }
    assert.equal(b?.message, 'save failed');
    assert.equal(b?.error.level, undefined);
    await obs.shutdown();
  });

  it('never throws on circular structures, BigInt, throwing getters or odd values', async () => {
    const { obs, cap } = build();
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    a.list = [a, { back: a }];
    const shared = { x: 1 };
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    const errWithCycle = new Error('cyclic') as Error & { self?: unknown };
    errWithCycle.self = errWithCycle;
    obs.logger.info('weird', { a, big: 2n ** 70n, shared1: shared, shared2: shared, hostile, nan: NaN, sym: Symbol('s'), fn: () => 1, when: new Date(0), map: new Map([['k', 1]]), set: new Set([1, 2]), errWithCycle });
    const [l] = cap.lines() as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(l?.a.self, '[Circular]');
    assert.equal(l?.a.list[0], '[Circular]');
    assert.equal(l?.a.list[1].back, '[Circular]');
    assert.equal(l?.big, (2n ** 70n).toString());
    assert.deepEqual([l?.shared1, l?.shared2], [{ x: 1 }, { x: 1 }]);
    assert.match(l?.hostile.boom, /getter exploded/);
    assert.equal(l?.nan, 'NaN');
    assert.equal(l?.when, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(l?.map, { k: 1 });
    assert.deepEqual(l?.set, [1, 2]);
    assert.equal(l?.errWithCycle.self, '[Circular]');
    assert.equal('fn' in (l ?? {}), false);
    await obs.shutdown();
  });

  it('redacts secret-like keys at any depth, token query parameters in strings, and configured keys', async () => {
    const { obs, cap } = build({ redact: ['customerNote', /^x-internal-/i] });
    obs.logger.info('login from /cb?code=1&access_token=SECRET1&x=2', {
      headers: { Authorization: 'Bearer SECRET2', cookie: 'sid=SECRET3', 'set-cookie': ['a=SECRET4'], 'X-Internal-Key': 'SECRET5' },
      user: { password: 'SECRET6', dbPassword: 'SECRET7', githubToken: 'SECRET8', name: 'ann' },
      customerNote: 'SECRET9',
      url: '/a?token=SECRET10&page=2',
    });
    const raw = cap.raw().join('\n');
    for (let i = 1; i <= 10; i++) assert.doesNotMatch(raw, new RegExp(`SECRET${i}\\b`), `SECRET${i} leaked: ${raw}`);
    const [l] = cap.lines() as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(l?.user.name, 'ann');
    assert.equal(l?.headers.Authorization, '[REDACTED]');
    assert.equal(l?.url, '/a?token=[REDACTED]&page=2');
    assert.equal(l?.message, 'login from /cb?code=1&access_token=[REDACTED]&x=2');
    await obs.shutdown();
  });

  it('logging.file appends the same JSON lines to a file, complete once shutdown() resolves', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-logfile-'));
    const file = path.join(dir, 'app.log');
    const obs = createObservability({ serviceName: 'file-svc', metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { stdout: false, file } } as never);
    for (let i = 0; i < 500; i++) obs.logger.info('to file', { i });
    await obs.shutdown();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 500);
    assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 500 }, (_, i) => i));
    rmSync(dir, { recursive: true, force: true });
  });

  it('logging.enabled: false writes nothing and req.log still works', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false }, logging: { enabled: false } } as never);
    const a = express();
    a.use(obs.middleware);
    a.get('/x', (req, res) => {
      req.log.info('silent');
      res.send('ok');
    });
    const app = await listen(a);
    assert.equal((await request(app.url, '/x')).status, 200);
    await app.close();
    await obs.shutdown();
  });

  it('refuses bad logging options, naming the option', () => {
    assert.throws(() => createObservability({ logging: { level: 'verbose' } } as never), /option "logging.level"/);
    assert.throws(() => createObservability({ logging: { accessLog: { skip: [] } } } as never), /unknown option "logging.accessLog.skip"/);
    assert.throws(() => createObservability({ logging: { transports: [{}] } } as never), /option "logging.transports\[0\]"/);
    assert.throws(() => createObservability({ logging: { elasticsearch: { url: 'ftp://x' } } } as never), /option "logging.elasticsearch.url"/);
    assert.throws(() => createObservability({ logging: { elasticsearch: {} } } as never), /option "logging.elasticsearch.url"/);
    assert.throws(() => createObservability({ logging: { elasticsearch: { url: 'http://x', index: 'Logs' } } } as never), /option "logging.elasticsearch.index"/);
    assert.throws(() => createObservability({ logging: { loki: { url: 'http://x', labelKeys: ['bad-name'] } } } as never), /option "logging.loki.labelKeys\[0\]"/);
    assert.throws(() => createObservability({ logging: { loki: { url: 'http://x', retryInitialMs: 10, retryMaxMs: 5 } } } as never), /option "logging.loki.retryMaxMs"/);
  });
});

describe('trace correlation, req.log and the access log', () => {
  let obs: Observability;
  let cap: LogCapture;
  let app: Listening;

  before(async () => {
    ({ obs, cap } = build({ accessLog: { skipPaths: ['/quiet'] } }));
    const a = express();
    a.use(obs.middleware);
    a.get('/work/:n', async (req, res) => {
      const n = req.params.n;
      obs.logger.info('step one', { n });
      await sleep(Number(n) % 7);
      req.log.info('step two', { n });
      await obs.tracing.withSpan('inner', async () => {
        await sleep(1);
        obs.logger.info('step three', { n });
      });
      setImmediate(() => req.log.info('step four (lost async context, bound child)', { n }));
      res.json({ n });
    });
    a.get('/bad', (_req, res) => void res.status(404).json({}));
    a.get('/boom', () => {
      throw new Error('kaboom');
    });
    a.get('/quiet', (_req, res) => void res.send('shh'));
    a.get('/secret', (req, res) => {
      req.log.info('handling', { headers: req.headers, url: req.originalUrl });
      res.send('ok');
    });
    a.use(obs.errorHandler);
    a.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).send('x'));
    app = await listen(a);
  });
  after(async () => {
    await app.close();
    await obs.shutdown();
  });

  it('every line written during a request carries that request trace id; lines outside carry none', async () => {
    obs.logger.info('before requests');
    const ids = Array.from({ length: 40 }, (_, i) => String(i));
    const traceOf = new Map<string, string>();
    await pool(ids, 10, async (n) => {
      const r = await request(app.url, `/work/${n}`, { headers: { 'user-agent': 'spec-agent' } });
      assert.equal(r.status, 200);
    });
    obs.logger.info('after requests');
    await sleep(20);
    const lines = cap.lines();
    const outside = lines.filter((l) => l.message === 'before requests' || l.message === 'after requests');
    assert.equal(outside.length, 2);
    for (const l of outside) assert.equal(l.trace_id, undefined);
    const access = lines.filter((l) => l.type === 'access' && String(l.path).startsWith('/work/'));
    assert.equal(access.length, 40);
    for (const a of access) {
      assert.match(String(a.trace_id), /^[0-9a-f]{32}$/);
      traceOf.set(String(a.path).slice('/work/'.length), String(a.trace_id));
    }
    assert.equal(new Set(traceOf.values()).size, 40, 'one trace per request');
    const inRequest = lines.filter((l) => typeof l.n === 'string');
    assert.equal(inRequest.length, 160);
    for (const l of inRequest) assert.equal(l.trace_id, traceOf.get(String(l.n)), `line ${JSON.stringify(l)}`);
    // The inner withSpan line carries the child span's id, the others the SERVER span's.
    const three = inRequest.find((l) => l.message === 'step three' && l.n === '3');
    const one = inRequest.find((l) => l.message === 'step one' && l.n === '3');
    assert.notEqual(three?.span_id, one?.span_id);
    const spans = obs.tracing.getTrace(traceOf.get('3') as string) ?? [];
    assert.ok(spans.some((s) => s.spanId === three?.span_id && s.name === 'inner'));
  });

  it('writes one access line per request with the documented fields, level by status, skipped paths and query redaction', async () => {
    await request(app.url, '/bad');
    await request(app.url, '/boom');
    await request(app.url, '/quiet');
    await request(app.url, '/work/7?token=abc123&page=2', { headers: { 'user-agent': 'ua/1.0' } });
    await sleep(20);
    const access = cap.lines().filter((l) => l.type === 'access');
    const bad = access.find((l) => l.path === '/bad');
    const boom = access.find((l) => l.path === '/boom');
    const work = access.find((l) => l.path === '/work/7?token=[REDACTED]&page=2');
    assert.equal(bad?.level, 'warn');
    assert.equal(bad?.status, 404);
    assert.equal(boom?.level, 'error');
    assert.equal((boom?.error as { message?: string }).message, 'kaboom');
    assert.equal(access.some((l) => l.path === '/quiet'), false);
    assert.ok(work, 'access line of /work/7');
    assert.equal(work.level, 'info');
    assert.equal(work.method, 'GET');
    assert.equal(work.route, '/work/:n');
    assert.equal(work.status, 200);
    assert.equal(typeof work.duration_ms, 'number');
    assert.equal(work.response_bytes, Buffer.byteLength('{"n":"7"}'));
    assert.equal(work.client_address, '127.0.0.1');
    assert.equal(work.user_agent, 'ua/1.0');
    assert.equal(work.service, 'log-svc');
    assert.match(String(work.trace_id), /^[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(work).slice(0, 6), ['timestamp', 'level', 'message', 'service', 'trace_id', 'span_id']);
  });

  it('access lines stay exact JSON with hostile request strings (quotes, backslashes, control and non-ASCII characters)', async () => {
    const ua = 'evil"agent\\ with \t tab, </script> and caf\u00e9';
    await request(app.url, '/work/3?q=%22%5C%0A%E2%80%A8&x="y"', { headers: { 'user-agent': ua } });
    await sleep(20);
    const raw = cap.raw().filter((l) => l.includes('"type":"access"') && l.includes('"path":"/work/3?q='));
    assert.equal(raw.length, 1, 'one access line for /work/3?q=...');
    const line = JSON.parse(raw[0] as string) as Record<string, unknown>;
    assert.equal(line.user_agent, ua);
    assert.equal(line.path, '/work/3?q=%22%5C%0A%E2%80%A8&x="y"');
    assert.equal(line.message, 'GET /work/3?q=%22%5C%0A%E2%80%A8&x="y" 200');
    assert.equal(line.route, '/work/:n');
    assert.deepEqual(Object.keys(line), [
      'timestamp', 'level', 'message', 'service', 'trace_id', 'span_id', 'type', 'method', 'route', 'path',
      'status', 'duration_ms', 'response_bytes', 'client_address', 'user_agent',
    ]);
    // Exactly what JSON.stringify of the parsed object gives: no stray escaping or missing fields.
    assert.equal(raw[0], JSON.stringify(line));
  });

  it('Authorization, cookies and ?token= never show in any log line or span', async () => {
    await request(app.url, '/secret?token=QUERYSECRET&x=1', {
      headers: { authorization: 'Bearer AUTHSECRET', cookie: 'session=COOKIESECRET; theme=dark', 'x-api-key': 'KEYSECRET' },
    });
    await sleep(20);
    const raw = cap.raw().join('\n');
    const handled = cap.lines().find((l) => l.message === 'handling');
    assert.ok(handled, 'the handler line was written');
    const traceId = String(handled.trace_id);
    const spans = JSON.stringify(obs.tracing.getTrace(traceId));
    assert.ok(spans.length > 10, 'the span was recorded');
    for (const secret of ['QUERYSECRET', 'AUTHSECRET', 'COOKIESECRET', 'KEYSECRET']) {
      assert.equal(raw.includes(secret), false, `${secret} in a log line`);
      assert.equal(spans.includes(secret), false, `${secret} in a span`);
    }
    assert.match(raw, /token=\[REDACTED\]&x=1/);
  });
});

describe('access log switched off', () => {
  it('accessLog: false writes no access lines but req.log still works', async () => {
    const { obs, cap } = build({ accessLog: false });
    const a = express();
    a.use(obs.middleware);
    a.get('/x', (req, res) => {
      req.log.info('inside');
      res.send('ok');
    });
    const app = await listen(a);
    await request(app.url, '/x');
    await app.close();
    await obs.shutdown();
    const lines = cap.lines();
    assert.deepEqual(lines.map((l) => l.message), ['inside']);
    assert.match(String(lines[0]?.trace_id), /^[0-9a-f]{32}$/);
  });
});

describe('req.log on every kind of app', () => {
  it('is bound to each request under Express (a getter on app.request), Connect (a property), and yields to an assignment', async () => {
    const { obs, cap } = build({ accessLog: false });
    const a = express();
    a.use(obs.middleware);
    a.get('/x/:n', (req, res) => {
      req.log.info('express line', { n: req.params.n });
      res.send(String(Object.prototype.hasOwnProperty.call(req, 'log')));
    });
    a.get('/mine', (req, res) => {
      const mine = { info: (m: string) => obs.logger.info(`custom ${m}`) };
      (req as unknown as { log: unknown }).log = mine;
      (req.log as unknown as typeof mine).info('assigned');
      res.send(String(req.log === (mine as unknown)));
    });
    const c = connect();
    c.use(obs.middleware as connect.NextHandleFunction);
    c.use((req: IncomingMessage & { log?: { info: (m: string) => void } }, res: ServerResponse) => {
      req.log?.info('connect line');
      res.end(req.log ? 'has log' : 'no log');
    });
    const e = await listen(a);
    const k = await listen(c);
    try {
      const [r1, r2] = await Promise.all([request(e.url, '/x/1'), request(e.url, '/x/2')]);
      assert.equal(r1.body, 'false', 'under Express req.log is not an own property of the request');
      assert.equal(r2.body, 'false');
      assert.equal((await request(e.url, '/mine')).body, 'true');
      assert.equal((await request(k.url, '/c')).body, 'has log');
    } finally {
      await e.close();
      await k.close();
      await obs.shutdown();
    }
    const lines = cap.lines();
    const express1 = lines.filter((l) => l.message === 'express line');
    assert.equal(express1.length, 2);
    assert.notEqual(express1[0]?.trace_id, express1[1]?.trace_id, 'each request logs with its own trace id');
    for (const l of express1) assert.match(String(l.trace_id), /^[0-9a-f]{32}$/);
    assert.ok(lines.some((l) => l.message === 'custom assigned'));
    const connectLine = lines.find((l) => l.message === 'connect line');
    assert.match(String(connectLine?.trace_id), /^[0-9a-f]{32}$/);
  });
});
