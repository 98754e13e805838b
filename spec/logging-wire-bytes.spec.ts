/**
 * The exact bytes of log lines on the wire: the JSON line in `logging.file` (what stdout gets too: the
 * same transport class) and the document in the Elasticsearch `_bulk` body. Only what differs per run
 * (time, ids, duration, stack) is taken from the output; every other byte is pinned.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability } from '../lib';
import { ecsJson, toEcs } from '../lib/logging/ecs';
import { accessJson, encodeLine, sharedJson } from '../lib/logging/json-line';
import { flatten, NO_FIELDS, type AccessFacts, type LogRecord } from '../lib/logging/record';
import { listen, request } from './support/http';
import { startElasticsearchStandIn, type ElasticsearchStandIn } from './support/elasticsearch-standin';

const FAST = { flushIntervalMs: 20, retryInitialMs: 10, retryMaxMs: 100, timeoutMs: 250 } as const;
const j = (v: unknown): string => JSON.stringify(v);

/** The documents of every `_bulk` body received, as sent (the line after each action). */
function bulkDocuments(es: ElasticsearchStandIn): string[] {
  const docs: string[] = [];
  for (const r of es.requests) {
    const lines = r.body.split('\n');
    for (let i = 1; i < lines.length; i += 2) docs.push(lines[i] as string);
  }
  return docs;
}

describe('log lines byte for byte: file JSON line and Elasticsearch document', () => {
  let es: ElasticsearchStandIn;
  let dir: string;
  let fileLines: string[];
  let docs: string[];

  before(async () => {
    es = await startElasticsearchStandIn();
    dir = mkdtempSync(path.join(os.tmpdir(), 'eo-wire-'));
    const file = path.join(dir, 'app.log');
    const obs = createObservability({
      serviceName: 'shop',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      tracing: { enabled: true, sampler: 'always_on' },
      logging: { stdout: false, file, elasticsearch: { url: es.url, ...FAST } },
    } as never);
    await obs.tracing.withSpan('job', async () => {
      obs.logger.info('order "placed"', { orderId: 7, tags: ['a', 'b'], nested: { password: 'x', n: 1.5 }, token: 'abc', url: '/x?token=abc&q=1', note: 'tab\tquote"é' });
    });
    obs.logger.warn('odd keys', { 'http.thing': 1, '@meta': true, type: 'job', 10: 'ten' });
    obs.logger.error('failed', new Error('boom', { cause: new Error('root') }));
    const a = express();
    a.use(obs.middleware);
    a.get('/users/:id', (_req, res) => {
      res.json({ ok: true });
    });
    a.get('/boom', () => {
      throw new Error('kaput');
    });
    a.use(obs.errorHandler);
    const app = await listen(a);
    try {
      await request(app.url, '/users/7?token=abc&q="x"', { headers: { 'user-agent': 'spec "agent" \\ 1.0' } });
      await request(app.url, '/boom');
    } finally {
      await app.close();
      await obs.shutdown();
    }
    fileLines = readFileSync(file, 'utf8').trim().split('\n');
    docs = bulkDocuments(es);
  });
  after(async () => {
    await es.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The file line and the ES document whose message is `message`. */
  function pair(message: string): { line: string; doc: string; l: Record<string, unknown>; d: Record<string, unknown> } {
    const line = fileLines.find((x) => (JSON.parse(x) as { message: string }).message === message);
    const doc = docs.find((x) => (JSON.parse(x) as { message: string }).message === message);
    assert.ok(line !== undefined && doc !== undefined, `a line and a document for ${message}: ${fileLines.join('\n')}`);
    return { line, doc, l: JSON.parse(line) as Record<string, unknown>, d: JSON.parse(doc) as Record<string, unknown> };
  }

  it('an ordinary line inside a span', () => {
    const { line, doc, l } = pair('order "placed"');
    const fields = '"orderId":7,"tags":["a","b"],"nested":{"password":"[REDACTED]","n":1.5},"token":"[REDACTED]","url":"/x?token=[REDACTED]&q=1","note":"tab\\tquote\\"é"';
    const ids = `"trace_id":${j(l.trace_id)},"span_id":${j(l.span_id)}`;
    assert.equal(line, `{"timestamp":${j(l.timestamp)},"level":"info","message":"order \\"placed\\"","service":"shop",${ids},${fields}}`);
    assert.equal(
      doc,
      `{"@timestamp":${j(l.timestamp)},"log.level":"info","message":"order \\"placed\\"","ecs.version":"8.11.0","service.name":"shop","trace.id":${j(l.trace_id)},"span.id":${j(l.span_id)},${fields}}`,
    );
  });

  it('an ordinary line with dotted, @, type and index keys', () => {
    const { line, doc, l } = pair('odd keys');
    assert.equal(line, `{"10":"ten","timestamp":${j(l.timestamp)},"level":"warn","message":"odd keys","service":"shop","http.thing":1,"@meta":true,"type":"job"}`);
    assert.equal(doc, `{"10":"ten","@timestamp":${j(l.timestamp)},"log.level":"warn","message":"odd keys","ecs.version":"8.11.0","service.name":"shop","http.thing":1,"@meta":true,"type":"job"}`);
  });

  it('an error line', () => {
    const { line, doc, l } = pair('failed');
    const e = l.error as { stack: string; cause: { stack: string } };
    const error = `{"name":"Error","message":"boom","stack":${j(e.stack)},"cause":{"name":"Error","message":"root","stack":${j(e.cause.stack)}}}`;
    assert.equal(line, `{"timestamp":${j(l.timestamp)},"level":"error","message":"failed","service":"shop","error":${error}}`);
    assert.equal(
      doc,
      `{"@timestamp":${j(l.timestamp)},"log.level":"error","message":"failed","ecs.version":"8.11.0","service.name":"shop","error.type":"Error","error.message":"boom","error.stack_trace":${j(e.stack)},"error.cause":${j(e.cause.stack)}}`,
    );
  });

  it('an access line', () => {
    const { line, doc, l, d } = pair('GET /users/7?token=[REDACTED]&q="x" 200');
    const ids = `"trace_id":${j(l.trace_id)},"span_id":${j(l.span_id)}`;
    assert.equal(
      line,
      `{"timestamp":${j(l.timestamp)},"level":"info","message":"GET /users/7?token=[REDACTED]&q=\\"x\\" 200","service":"shop",${ids},"type":"access","method":"GET","route":"/users/:id","path":"/users/7?token=[REDACTED]&q=\\"x\\"","status":200,"duration_ms":${j(l.duration_ms)},"response_bytes":11,"client_address":"127.0.0.1","user_agent":"spec \\"agent\\" \\\\ 1.0"}`,
    );
    assert.equal(
      doc,
      `{"@timestamp":${j(l.timestamp)},"log.level":"info","message":"GET /users/7?token=[REDACTED]&q=\\"x\\" 200","ecs.version":"8.11.0","service.name":"shop","trace.id":${j(l.trace_id)},"span.id":${j(l.span_id)},"log.logger":"access","event.kind":"event","event.category":["web"],"http.request.method":"GET","http.response.status_code":200,"http.response.body.bytes":11,"http.route":"/users/:id","url.original":"/users/7?token=[REDACTED]&q=\\"x\\"","url.path":"/users/7","url.query":"token=[REDACTED]&q=\\"x\\"","event.duration":${j(d['event.duration'])},"client.address":"127.0.0.1","user_agent.original":"spec \\"agent\\" \\\\ 1.0"}`,
    );
    assert.equal(d['event.duration'], Math.round((l.duration_ms as number) * 1e6));
  });

  it('an access line of a 5xx with its error', () => {
    const { line, doc, l, d } = pair('GET /boom 500');
    const e = l.error as { stack: string };
    const ids = `"trace_id":${j(l.trace_id)},"span_id":${j(l.span_id)}`;
    assert.equal(
      line,
      `{"timestamp":${j(l.timestamp)},"level":"error","message":"GET /boom 500","service":"shop",${ids},"type":"access","method":"GET","route":"/boom","path":"/boom","status":500,"duration_ms":${j(l.duration_ms)},"response_bytes":${j(l.response_bytes)},"client_address":"127.0.0.1","error":{"name":"Error","message":"kaput","stack":${j(e.stack)}}}`,
    );
    assert.equal(
      doc,
      `{"@timestamp":${j(l.timestamp)},"log.level":"error","message":"GET /boom 500","ecs.version":"8.11.0","service.name":"shop","trace.id":${j(l.trace_id)},"span.id":${j(l.span_id)},"error.type":"Error","error.message":"kaput","error.stack_trace":${j(e.stack)},"log.logger":"access","event.kind":"event","event.category":["web"],"http.request.method":"GET","http.response.status_code":500,"http.response.body.bytes":${j(l.response_bytes)},"http.route":"/boom","url.original":"/boom","url.path":"/boom","event.duration":${j(d['event.duration'])},"client.address":"127.0.0.1"}`,
    );
  });
});

describe('access line templates equal the generic serialisation, for any string a request can carry', () => {
  const hostile = ['plain', '', 'quote " back \\ slash', 'tab\tnew\nline\u0000nul', 'del \u007f', 'é ü 日本', 'lone \ud800 surrogate', 'emoji 😀', '</script>', '\u2028\u2029'];

  /** An access record as the access log builds it, with `s` in every request-derived string. */
  function accessRecord(s: string, i: number): LogRecord {
    const access: AccessFacts = {
      method: i % 2 === 0 ? 'GET' : '_OTHER',
      route: `/r/${s}`,
      path: `/p/${s}?q=${s}`,
      status: 200 + i,
      durationMs: i === 0 ? 0 : 1.5 / (i + 1),
      responseBytes: i % 3 === 0 ? undefined : i * 100,
      clientAddress: i % 4 === 0 ? undefined : `10.0.0.${s}`,
      userAgent: i % 5 === 0 ? undefined : `ua ${s}`,
      aborted: i % 2 === 1,
    };
    const message = `${access.method} ${access.path} ${access.status}`;
    const record: LogRecord = {
      timestamp: new Date(1_700_000_000_000 + i).toISOString(),
      level: 'info',
      message,
      service: i % 2 === 0 ? `svc ${s}` : undefined,
      traceId: i % 3 === 1 ? undefined : `${'ab'.repeat(15)}${String(i).padStart(2, '0')}`,
      spanId: i % 3 === 1 ? undefined : `${'cd'.repeat(7)}${String(i).padStart(2, '0')}`,
      traceFlags: undefined,
      fields: NO_FIELDS,
      error: undefined,
      errorKey: 'error',
      access,
      json: accessJson(message, access),
      line: '',
    };
    return record;
  }

  it('the JSON line is JSON.stringify of the flat object, byte for byte', () => {
    hostile.forEach((s, i) => {
      const r = accessRecord(s, i);
      const flat = flatten(r);
      assert.equal(encodeLine(r, flat), JSON.stringify(flat), JSON.stringify(s));
    });
  });

  it('the ECS document is JSON.stringify of the generic ECS mapping, byte for byte', () => {
    hostile.forEach((s, i) => {
      const r = accessRecord(s, i);
      assert.equal(ecsJson(r, 'fallback'), JSON.stringify(toEcs(flatten(r), 'fallback')), JSON.stringify(s));
    });
  });

  it('plain lines: ids and message through the fast path, same bytes', () => {
    hostile.forEach((s, i) => {
      const fields = { k: s, n: i };
      const base = accessRecord(s, i);
      const r: LogRecord = { ...base, message: s, access: undefined, json: sharedJson(s, fields), fields };
      const flat = flatten(r);
      assert.equal(encodeLine(r, flat), JSON.stringify(flat), JSON.stringify(s));
      assert.equal(ecsJson(r, 'fallback'), JSON.stringify(toEcs(flat, 'fallback')), JSON.stringify(s));
    });
  });
});
