import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import express from 'express';
import winston from 'winston';
import { createObservability, ElasticsearchTransport, type DeadLetter } from '../lib';
import { toEcs } from '../lib/logging/ecs';
import { bulkSucceeded } from '../lib/logging/elasticsearch';
import { SLAB_BYTES } from '../lib/logging/slab';
import type { LogInfo } from '../lib/logging/levels';
import { listen, request, waitFor } from './support/http';
import { captureLogs } from './support/log-capture';
import { startElasticsearchStandIn, type ElasticsearchStandIn } from './support/elasticsearch-standin';
import { ROOT } from './support/demo';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Compressed timings: a 30 s outage becomes 1.5 s (x20), the retry delays shrink by the same factor or more. */
const FAST = { flushIntervalMs: 20, retryInitialMs: 10, retryMaxMs: 100, timeoutMs: 250 } as const;

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Elasticsearch transport against the _bulk stand-in', () => {
  let es: ElasticsearchStandIn;
  before(async () => {
    es = await startElasticsearchStandIn();
  });
  after(async () => {
    await es.stop();
  });

  it('sends NDJSON create actions with client ids into a daily index as ECS documents, with auth', async () => {
    es.indices.clear();
    const obs = createObservability({
      serviceName: 'shop',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false, elasticsearch: { url: es.url, username: 'elastic', password: 'changeme', ...FAST } },
    } as never);
    obs.logger.info('order placed', { orderId: 7, password: 'hunter2' });
    await obs.tracing.withSpan('job', async () => {
      obs.logger.error('failed', new Error('boom', { cause: new Error('root') }));
    });
    await obs.shutdown();
    const req = es.requests.find((r) => r.status === 200);
    assert.equal(req?.contentType, 'application/x-ndjson');
    assert.equal(req?.filterPath, 'errors,items.*.error,items.*.status', 'asks only for what it reads');
    assert.equal(req?.authorization, `Basic ${Buffer.from('elastic:changeme').toString('base64')}`);
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '.');
    const index = es.indices.get(`logs-${day}`);
    assert.ok(index, `index logs-${day} exists: ${[...es.indices.keys()].join(', ')}`);
    const docs = [...index.values()];
    assert.equal(docs.length, 2);
    const placed = docs.find((d) => d.message === 'order placed');
    assert.deepEqual(Object.keys(placed ?? {}).sort(), ['@timestamp', 'ecs.version', 'log.level', 'message', 'orderId', 'password', 'service.name']);
    assert.equal(placed?.['log.level'], 'info');
    assert.equal(placed?.['service.name'], 'shop');
    assert.equal(placed?.orderId, 7);
    assert.equal(placed?.password, '[REDACTED]');
    assert.match(String(placed?.['@timestamp']), /^\d{4}-\d\d-\d\dT/);
    assert.ok(placed?.['ecs.version']);
    const failed = docs.find((d) => d.message === 'failed');
    assert.match(String(failed?.['trace.id']), /^[0-9a-f]{32}$/);
    assert.match(String(failed?.['span.id']), /^[0-9a-f]{16}$/);
    assert.equal(failed?.['error.type'], 'Error');
    assert.equal(failed?.['error.message'], 'boom');
    assert.match(String(failed?.['error.stack_trace']), /Error: boom/);
    assert.match(String(failed?.['error.cause']), /Error: root/);
    for (const id of index.keys()) assert.match(id, /^[A-Za-z0-9_-]{12}[0-9a-z]+$/);
  });

  it('access lines arrive as the ECS documents the generic mapping gives their JSON line', async () => {
    es.indices.clear();
    const capture = captureLogs();
    const obs = createObservability({
      serviceName: 'shop',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      tracing: { enabled: true, sampler: 'always_on' },
      logging: { stdout: false, transports: [capture.transport], elasticsearch: { url: es.url, ...FAST } },
    } as never);
    const a = express();
    a.use(obs.middleware);
    a.get('/users/:id', (_req, res) => {
      res.json({ ok: true });
    });
    a.get('/boom', () => {
      throw new Error('boom');
    });
    a.use(obs.errorHandler);
    const app = await listen(a);
    try {
      await request(app.url, '/users/7?token=abc&q="x"', { headers: { 'user-agent': 'spec "agent" \\ 1.0' } });
      await request(app.url, '/users/8');
      await request(app.url, '/missing');
      await request(app.url, '/boom');
    } finally {
      await app.close();
      await obs.shutdown();
    }
    const lines = capture.lines().filter((l) => l.type === 'access');
    assert.equal(lines.length, 4);
    const docs = [...es.indices.values()].flatMap((idx) => [...idx.values()]).filter((d) => d['log.logger'] === 'access');
    assert.equal(docs.length, 4);
    for (const line of lines) {
      const doc = docs.find((d) => d['span.id'] === line.span_id);
      assert.deepEqual(doc, JSON.parse(JSON.stringify(toEcs(line as LogInfo, undefined))), String(line.path));
    }
    const first = docs.find((d) => String(d['url.original']).startsWith('/users/7'));
    assert.equal(first?.['url.query'], 'token=[REDACTED]&q="x"');
    assert.equal(first?.['user_agent.original'], 'spec "agent" \\ 1.0');
  });

  it('reads a successful _bulk answer without parsing its items; anything else is parsed', () => {
    assert.equal(bulkSucceeded('{"took":3,"errors":false,"items":[{"create":{"status":201}}]}'), true);
    assert.equal(bulkSucceeded('{"errors":false,"items":[{"create":{"status":201}}]}'), true, 'the filter_path form');
    assert.equal(bulkSucceeded('{"took":3,"ingest_took":0,"errors" : false ,"items":[]}'), true);
    assert.equal(bulkSucceeded('{"took":3,"errors":true,"items":[{"create":{"status":400}}]}'), false);
    assert.equal(bulkSucceeded('{"items":[],"errors":false}'), false);
    assert.equal(bulkSucceeded('{"took":3,"x":{"errors":false},"items":[]}'), false);
    assert.equal(bulkSucceeded('not json'), false);
  });

  it('the stand-in answers filter_path as Elasticsearch does: statuses and errors kept per item, in order; errors unfiltered', async () => {
    es.indices.clear();
    es.itemFailures((doc) => (doc.bad === true ? { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse' } : undefined));
    try {
      const body = [
        '{"create":{"_index":"f","_id":"a"}}',
        '{"n":1}',
        '{"create":{"_index":"f","_id":"a"}}',
        '{"n":2}',
        '{"create":{"_index":"f","_id":"b"}}',
        '{"bad":true}',
        '',
      ].join('\n');
      const headers = { 'content-type': 'application/x-ndjson' };
      const filtered = await request(es.url, '/_bulk?filter_path=errors,items.*.error,items.*.status', { method: 'POST', headers, body });
      assert.equal(filtered.status, 200);
      assert.deepEqual(JSON.parse(filtered.body), {
        errors: true,
        items: [
          { create: { status: 201 } },
          { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: '[a]: version conflict, document already exists (current version [1])', index: 'f' } } },
          { create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse', index: 'f' } } },
        ],
      });
      const full = JSON.parse((await request(es.url, '/_bulk', { method: 'POST', headers, body: '{"create":{"_index":"f","_id":"c"}}\n{"n":3}\n' })).body) as {
        items: Array<{ create: Record<string, unknown> }>;
      };
      assert.deepEqual(Object.keys(full.items[0]?.create ?? {}).sort(), ['_id', '_index', '_shards', '_version', 'result', 'status']);
      const onlyErrors = await request(es.url, '/_bulk?filter_path=errors,items.*.error', { method: 'POST', headers, body: '{"create":{"_index":"f","_id":"d"}}\n{"n":4}\n' });
      assert.deepEqual(JSON.parse(onlyErrors.body), { errors: false }, 'items with nothing left are dropped');
      const wildcard = await request(es.url, '/_bulk?filter_path=**.status', { method: 'POST', headers, body: '{"create":{"_index":"f","_id":"e"}}\n{"n":5}\n' });
      assert.deepEqual(JSON.parse(wildcard.body), { items: [{ create: { status: 201 } }] });
      const refused = await request(es.url, '/_bulk?filter_path=errors', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      assert.equal(refused.status, 406);
      assert.match(JSON.parse(refused.body).error as string, /not supported/, 'error responses are not filtered');
    } finally {
      es.itemFailures(null);
    }
  });

  it('works standalone in a plain winston logger, with an API key and metrics on its own registry', async () => {
    es.indices.clear();
    const registry = new Registry();
    const transport = new ElasticsearchTransport({ url: es.url, apiKey: 'aWQ6a2V5', index: 'app-logs', serviceName: 'plain', registry, ...FAST });
    const logger = winston.createLogger({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] });
    logger.info('plain winston', { token: 'should-not-ship', n: 1n });
    await transport.flush();
    const doc = [...(es.indices.get('app-logs')?.values() ?? [])][0];
    assert.equal(doc?.message, 'plain winston');
    assert.equal(doc?.['service.name'], 'plain');
    assert.equal(doc?.token, '[REDACTED]');
    assert.equal(doc?.n, '1');
    assert.equal(es.requests.at(-1)?.authorization, 'ApiKey aWQ6a2V5');
    const text = await registry.metrics();
    assert.equal(metricValue(text, 'observability_log_lines_shipped_total', 'transport="elasticsearch"'), 1);
    await transport.shutdown(1000);
  });

  it('reuses the entries and buffers of delivered lines, and every line arrives intact', async () => {
    es.indices.clear();
    type Entry = ReturnType<ElasticsearchTransport['toEntry']>;
    const entries: Entry[] = [];
    const buffers: Buffer[][] = [[]];
    /** The transport, noting each queued entry and the buffer its bytes are in, per round. */
    class Watched extends ElasticsearchTransport {
      protected override toEntry(record: Parameters<ElasticsearchTransport['toEntry']>[0]): Entry {
        const entry = super.toEntry(record);
        entries.push(entry);
        const buf = (entry as unknown as { buf: Buffer }).buf;
        const round = buffers.at(-1) as Buffer[];
        if (!round.includes(buf)) round.push(buf);
        return entry;
      }
    }
    const transport = new Watched({ url: es.url, index: 'released', registry: new Registry(), batchSize: 10, flushIntervalMs: 20 });
    const logger = winston.createLogger({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] });
    // ~4 KB lines: 200 of them fill three or four 256 KB buffers.
    const pad = (i: number): string => String.fromCharCode(97 + (i % 26)).repeat(4000);
    for (let i = 0; i < 200; i++) logger.info('released', { i, pad: pad(i) });
    await transport.flush();
    const first = new Set(entries.splice(0));
    for (let round = 1; round < 3; round++) {
      buffers.push([]);
      for (let i = round * 200; i < (round + 1) * 200; i++) logger.info('released', { i, pad: pad(i) });
      await transport.flush();
    }
    const docs = [...(es.indices.get('released')?.values() ?? [])] as Array<{ i?: number; pad?: string }>;
    assert.deepEqual(docs.map((d) => d.i).sort((a, b) => (a as number) - (b as number)), Array.from({ length: 600 }, (_, i) => i), 'every line arrived once');
    for (const d of docs) assert.equal(d.pad, pad(d.i as number), `line ${d.i} arrived intact`);
    assert.equal(first.size, 200);
    const reused = entries.filter((e) => first.has(e)).length;
    assert.ok(reused >= 390, `the next 400 lines reused ${reused} entries of the first 200`);
    for (const e of [...first, ...entries]) assert.equal(e.bytes, 0, 'a settled entry points at no bytes');
    const distinct = new Set(buffers.flat()).size;
    assert.ok((buffers[0] as Buffer[]).length >= 3, `${(buffers[0] as Buffer[]).length} buffers in the first round`);
    assert.ok(distinct <= (buffers[0] as Buffer[]).length + 1, `3 rounds used ${distinct} buffers, the first alone ${(buffers[0] as Buffer[]).length}`);
    await transport.shutdown(1000);
  });

  it('does not write a buffer again while a line in it waits for a retry', async () => {
    es.indices.clear();
    es.requests.length = 0;
    const transport = new ElasticsearchTransport({ url: es.url, index: 'held', registry: new Registry(), batchSize: 50, flushIntervalMs: 10, retryInitialMs: 300, retryMaxMs: 300 });
    const logger = winston.createLogger({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] });
    // ~3 KB lines: a 256 KB buffer holds about 85.
    const pad = (i: number): string => String.fromCharCode(65 + (i % 26)).repeat(3000 + (i % 7));
    // Line 0 is refused once with a retryable status: the queue waits 300 ms, then sends it again.
    let refused = 0;
    es.itemFailures((doc) => (Number(doc.i) === 0 && refused++ === 0 ? { status: 429, type: 'es_rejected_execution_exception', reason: 'busy' } : undefined));
    for (let i = 0; i < 100; i++) logger.info('held', { i, pad: pad(i) });
    // The first batch answered (lines 1-49 delivered, their buffer's other lines still queued), the
    // retry pending: the next 200 lines need two more buffers and must not take the first one.
    await waitFor(() => es.requests.length >= 1);
    await sleep(20);
    for (let i = 100; i < 300; i++) logger.info('held', { i, pad: pad(i) });
    await transport.flush();
    es.itemFailures(null);
    assert.equal(refused, 2, 'line 0 was refused once, then accepted');
    const docs = [...(es.indices.get('held')?.values() ?? [])] as Array<{ i?: number; pad?: string }>;
    assert.equal(docs.length, 300);
    for (const d of docs) assert.equal(d.pad, pad(d.i as number), `line ${d.i} arrived intact`);
    await transport.shutdown(1000);
  });

  it('under steady traffic it posts full batches, plus one partial batch per interval tick (the queue both shippers share)', async () => {
    es.indices.clear();
    es.requests.length = 0;
    // Each _bulk takes 10 ms: ≈ 50 lines arrive while a request is in flight (half a batch), so the queue is never empty.
    es.latency(10);
    const registry = new Registry();
    const transport = new ElasticsearchTransport({ url: es.url, index: 'steady', registry, batchSize: 100, flushIntervalMs: 200 });
    const logger = winston.createLogger({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] });
    // ≈ 5,000 lines/s for ≈ 1 s.
    const rounds = 250;
    const perRound = 20;
    const started = Date.now();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perRound; i++) logger.info('steady', { r, i });
      await sleep(4);
    }
    const elapsed = Date.now() - started;
    const postsWhileWriting = es.requests.length;
    await transport.flush();
    es.latency(0);
    const lines = rounds * perRound;
    assert.equal(es.indices.get('steady')?.size, lines, 'every line stored once');
    const sent = es.requests.reduce((n, q) => n + q.actions, 0);
    assert.equal(sent, lines, 'no line sent twice');
    // Full batches of 100, and at most one partial batch per 200 ms tick (plus the final flush):
    // sending back to back after the first tick would post what arrived during each round trip.
    const bound = Math.ceil(lines / 100) + Math.ceil(elapsed / 200) + 4;
    assert.ok(es.requests.length <= bound, `${es.requests.length} _bulk requests for ${lines} lines in ${elapsed} ms (at most ${bound}); ${postsWhileWriting} while writing; sizes ${es.requests.map((q) => q.actions).join(',')}`);
    const full = es.requests.filter((q) => q.actions === 100).length;
    assert.ok(full * 100 >= lines * 0.7, `${full} full batches carry at least 70 % of the lines`);
    await transport.shutdown(1000);
  });

  it('through a 30 s outage (compressed: refused, hung, 503, 429) every line arrives exactly once', async () => {
    es.indices.clear();
    const transport = new ElasticsearchTransport({ url: es.url, index: 'outage', batchSize: 50, ...FAST });
    const logger = winston.createLogger({ transports: [transport] });
    let n = 0;
    const writer = setInterval(() => {
      for (let i = 0; i < 20; i++) logger.info(`line ${n++}`);
    }, 5);
    await sleep(100);
    await es.refuse();
    await sleep(400);
    await es.reopen();
    es.hang(true);
    await sleep(400); // indexed but never answered: the retries must end in 409s, not duplicates
    es.hang(false);
    es.failRequests(503);
    await sleep(350);
    es.failRequests(429);
    await sleep(350);
    es.failRequests(null);
    clearInterval(writer);
    await transport.flush();
    const messages = [...(es.indices.get('outage')?.values() ?? [])].map((d) => String(d.message));
    assert.equal(messages.length, n, `stored ${messages.length} of ${n}`);
    assert.equal(new Set(messages).size, n, 'no duplicates');
    const stats = transport.stats();
    assert.equal(stats.shipped, n);
    assert.equal(stats.droppedTotal, 0);
    assert.ok(stats.retried > 0, 'retries happened');
    assert.ok(es.requests.some((r) => r.status === 503) && es.requests.some((r) => r.status === 429));
    assert.ok(es.requests.some((r) => r.status === 0 && r.actions > 0), 'a batch was indexed but never answered');
    await transport.shutdown(1000);
  });

  it('retries only retryable items; items rejected for good reach the dead-letter callback and the metric', async () => {
    es.indices.clear();
    const seen429 = new Set<string>();
    es.itemFailures((doc) => {
      const m = String(doc.message);
      if (m.startsWith('mapping')) return { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [count] of type [long]' };
      if (m.startsWith('busy') && !seen429.has(m)) {
        seen429.add(m);
        return { status: 429, type: 'es_rejected_execution_exception', reason: 'rejected execution (queue capacity 200)' };
      }
      return undefined;
    });
    const registry = new Registry();
    const dead: DeadLetter[] = [];
    const transport = new ElasticsearchTransport({ url: es.url, index: 'items', registry, onDeadLetter: (l) => dead.push(...l), ...FAST });
    const logger = winston.createLogger({ transports: [transport] });
    for (let i = 0; i < 30; i++) logger.info(`${['ok', 'busy', 'mapping'][i % 3]} ${i}`);
    await transport.flush();
    es.itemFailures(null);
    const stored = [...(es.indices.get('items')?.values() ?? [])].map((d) => String(d.message)).sort();
    assert.equal(stored.length, 20);
    assert.equal(stored.filter((m) => m.startsWith('busy')).length, 10, 'each 429 item retried and stored once');
    assert.equal(dead.length, 10);
    for (const d of dead) {
      assert.equal(d.reason, 'rejected');
      assert.match(d.detail, /^400 mapper_parsing_exception/);
      assert.match(JSON.parse(d.line).message, /^mapping/);
    }
    const text = await registry.metrics();
    assert.equal(metricValue(text, 'observability_log_lines_dropped_total', 'reason="rejected"'), 10);
    assert.equal(metricValue(text, 'observability_log_lines_shipped_total', 'transport="elasticsearch"'), 20);
    assert.equal(metricValue(text, 'observability_log_lines_retried_total', 'transport="elasticsearch"'), 10);
    await transport.shutdown(1000);
  });

  it('lines encoded into shared buffers arrive byte-exact: non-ASCII, across buffer ends, longer than a buffer, retried from the middle', async () => {
    es.indices.clear();
    // Every 7th line is refused once with 429 (retried from the middle of a buffer), every 50th for good (dead letter).
    const refused = new Set<string>();
    es.itemFailures((doc) => {
      const n = Number(doc.n);
      if (n % 50 === 49) return { status: 400, type: 'mapper_parsing_exception', reason: 'bad' };
      if (n % 7 === 3 && !refused.has(String(n))) {
        refused.add(String(n));
        return { status: 429, type: 'es_rejected_execution_exception', reason: 'busy' };
      }
      return undefined;
    });
    const dead: DeadLetter[] = [];
    const transport = new ElasticsearchTransport({ url: es.url, index: 'slab', onDeadLetter: (l) => dead.push(...l), batchSize: 97, ...FAST });
    const logger = winston.createLogger({ transports: [transport] });
    const texts = ['ascii only', 'café crème, naïve façade', '日本語のログ行', 'emoji 🚀🔥 and \u2028 separators', 'quote " backslash \\ tab \t'];
    const expected = new Map<number, string>();
    // ~2 MB of lines: several 256 KB buffers, lines landing across their ends.
    for (let n = 0; n < 3000; n++) {
      const message = `${texts[n % texts.length]} #${n} ${'é'.repeat(n % 300)}`;
      expected.set(n, message);
      logger.info(message, { n });
    }
    const huge = `${'🚀'.repeat(70_000)} huge`; // 280,005 UTF-8 bytes: more than one shared buffer holds
    assert.ok(Buffer.byteLength(huge) > SLAB_BYTES, 'the huge line needs a buffer of its own');
    logger.info(huge, { n: 3000 });
    expected.set(3000, huge);
    await transport.flush();
    es.itemFailures(null);
    const stored = new Map([...(es.indices.get('slab')?.values() ?? [])].map((d) => [Number(d.n), String(d.message)]));
    const deadNs = new Set(dead.map((d) => Number((JSON.parse(d.line) as { n: number }).n)));
    for (const [n, message] of expected) {
      if (n % 50 === 49) {
        assert.ok(!stored.has(n), `line ${n} refused for good`);
        assert.ok(deadNs.has(n), `line ${n} reached the dead letter`);
      } else {
        assert.equal(stored.get(n), message, `line ${n}`);
      }
    }
    for (const d of dead) {
      const doc = JSON.parse(d.line) as { n: number; message: string };
      assert.equal(doc.message, expected.get(doc.n), 'dead letter decoded intact');
    }
    assert.equal(dead.length, 60);
    assert.equal(stored.size, 3001 - 60);
    assert.equal(refused.size, [...expected.keys()].filter((n) => n % 7 === 3 && n % 50 !== 49).length, 'every 429 item retried');
    await transport.shutdown(1000);
  });

  it('with a tiny queue limit the drop counter equals exactly the lines that never arrived', async () => {
    es.indices.clear();
    const registry = new Registry();
    const dead: DeadLetter[] = [];
    const transport = new ElasticsearchTransport({
      url: es.url,
      index: 'tiny',
      maxQueueBytes: 4096,
      registry,
      onDeadLetter: (l) => dead.push(...l),
      ...FAST,
    });
    const logger = winston.createLogger({ transports: [transport] });
    await es.refuse();
    const total = 300;
    for (let i = 0; i < total; i++) logger.info(`tiny ${i}`, { pad: 'x'.repeat(50) });
    await sleep(50);
    await es.reopen();
    await transport.flush();
    const arrived = new Set([...(es.indices.get('tiny')?.values() ?? [])].map((d) => String(d.message)));
    const text = await registry.metrics();
    const dropped = metricValue(text, 'observability_log_lines_dropped_total', 'reason="queue_full"');
    assert.ok(dropped > 0 && arrived.size > 0, `some dropped (${dropped}), some arrived (${arrived.size})`);
    assert.equal(dropped, total - arrived.size);
    assert.equal(dead.length, dropped);
    for (const d of dead) {
      assert.equal(d.reason, 'queue_full');
      assert.equal(arrived.has(JSON.parse(d.line).message), false, 'a dead-lettered line never arrives');
    }
    await transport.shutdown(1000);
  });

  it('shutdown() delivers 10,000 lines written just before it', async () => {
    es.indices.clear();
    const obs = createObservability({
      serviceName: 'bulk',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false, elasticsearch: { url: es.url, index: 'shutdown' } },
    } as never);
    for (let i = 0; i < 10_000; i++) obs.logger.info(`bye ${i}`, { i });
    await obs.shutdown();
    const docs = es.indices.get('shutdown');
    assert.equal(docs?.size, 10_000);
    const text = await obs.registry.metrics();
    assert.equal(metricValue(text, 'observability_log_lines_shipped_total', 'transport="elasticsearch"'), 10_000);
    assert.equal(metricValue(text, 'observability_log_queue_bytes', 'transport="elasticsearch"'), 0);
  });

  it('during an outage the queue gauges follow every line queued, though no batch is sent during the backoff', async () => {
    es.indices.clear();
    const registry = new Registry();
    const transport = new ElasticsearchTransport({ url: es.url, index: 'gauges', registry, flushIntervalMs: 20, retryInitialMs: 60_000, retryMaxMs: 60_000 });
    const logger = winston.createLogger({ transports: [transport] });
    es.failRequests(503);
    for (let i = 0; i < 10; i++) logger.info(`first ${i}`);
    await waitFor(() => es.requests.length > 0 && transport.stats().retried === 10, 5000, 10, 'a failed batch, then the backoff');
    for (let i = 0; i < 2000; i++) logger.info(`during ${i}`);
    const text = await registry.metrics();
    assert.equal(metricValue(text, 'observability_log_queue_lines', 'transport="elasticsearch"'), 2010);
    assert.equal(metricValue(text, 'observability_log_queue_bytes', 'transport="elasticsearch"'), transport.stats().queueBytes);
    es.failRequests(null);
    transport.abandon();
  });

  it('shutdown() cuts short a backoff begun before it: the backend is back, every line arrives', async () => {
    es.indices.clear();
    const transport = new ElasticsearchTransport({ url: es.url, index: 'backoff', flushIntervalMs: 20, retryInitialMs: 60_000, retryMaxMs: 60_000 });
    const logger = winston.createLogger({ transports: [transport] });
    es.failRequests(503);
    for (let i = 0; i < 100; i++) logger.info(`retry ${i}`);
    await waitFor(() => transport.stats().retried === 100, 5000, 10, 'a failed batch, then a 60 s backoff');
    es.failRequests(null);
    const t0 = Date.now();
    await transport.shutdown(3000);
    assert.ok(Date.now() - t0 < 2000, `shutdown took ${Date.now() - t0} ms`);
    assert.equal(es.indices.get('backoff')?.size, 100);
    assert.equal(transport.stats().droppedTotal, 0);
  });

  it('a hung backend costs the logger nothing and shutdown() is bounded, accounting for what it could not send', async () => {
    es.indices.clear();
    es.hang(true);
    const transport = new ElasticsearchTransport({ url: es.url, index: 'hung', ...FAST, timeoutMs: 60_000 });
    const logger = winston.createLogger({ transports: [transport] });
    for (let i = 0; i < 100; i++) logger.info(`hung ${i}`);
    await waitFor(() => es.requests.length > 0 && transport.stats().queueLines === 100, 5000, 10, 'batch in flight');
    const t0 = Date.now();
    await transport.shutdown(300);
    assert.ok(Date.now() - t0 < 5000);
    es.hang(false);
    assert.equal(transport.stats().dropped.shutdown, 100);
  });
});

describe('Elasticsearch over HTTPS', () => {
  it('ships to an https: URL, verifying the certificate (node:https loads for that URL only)', async () => {
    // A throwaway certificate for 127.0.0.1; the shipping process trusts it through NODE_EXTRA_CA_CERTS, so
    // Node's own verification (hostname and chain) runs as it does against a real cluster.
    const dir = mkdtempSync(path.join(tmpdir(), 'obs-es-tls-'));
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    const es = await startElasticsearchStandIn({ key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') });
    try {
      assert.match(es.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const script = `const { createObservability } = require('./dist/index.js');
        const https = () => process.moduleLoadList.includes('NativeModule https');
        const atRequire = https();
        const obs = createObservability({ metrics: { defaultMetrics: false }, system: { enabled: false },
          logging: { stdout: false, elasticsearch: { url: process.env.ES_URL, username: 'elastic', password: 'changeme', flushIntervalMs: 20 } } });
        obs.logger.info('over tls', { order: 42 });
        obs.shutdown().then(async () => console.log(JSON.stringify({ atRequire, atCreate: https(), text: await obs.registry.metrics() })));`;
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, ES_URL: es.url, NODE_EXTRA_CA_CERTS: certFile } }, (err, out) => (err ? reject(err) : resolve(out))),
      );
      const out = JSON.parse(stdout) as { atRequire: boolean; atCreate: boolean; text: string };
      assert.equal(out.atRequire, false, 'requiring the package does not load node:https');
      assert.equal(out.atCreate, true, 'an https: URL does');
      const docs = es.documents();
      assert.equal(docs.length, 1, `one document arrived: ${JSON.stringify(docs)}`);
      assert.equal(docs[0]?.message, 'over tls');
      assert.equal(es.requests[0]?.authorization, `Basic ${Buffer.from('elastic:changeme').toString('base64')}`);
      assert.equal(metricValue(out.text, 'observability_log_lines_shipped_total', 'transport="elasticsearch"'), 1);
    } finally {
      await es.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

