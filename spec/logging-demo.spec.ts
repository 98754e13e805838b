import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request, waitFor } from './support/http';
import { startDemo, type DemoProcess } from './support/demo';
import { startElasticsearchStandIn, type ElasticsearchStandIn } from './support/elasticsearch-standin';
import { startLokiStandIn, type LokiStandIn } from './support/loki-standin';

describe('demo app logging (built package, child process)', () => {
  let es: ElasticsearchStandIn;
  let loki: LokiStandIn;
  let demo: DemoProcess;
  before(async () => {
    es = await startElasticsearchStandIn();
    loki = await startLokiStandIn();
    demo = await startDemo({ ELASTICSEARCH_URL: `http://elastic:s3cret@127.0.0.1:${es.port}`, LOKI_URL: loki.url, OTEL_SERVICE_NAME: 'demo-logs' });
  });
  after(async () => {
    await demo.stop('SIGKILL');
    await es.stop();
    await loki.stop();
  });

  it('logs JSON lines to stdout and ships the same lines to Elasticsearch and Loki, flushed at SIGTERM', async () => {
    const r = await request(demo.url, '/users/42?token=leaky', { headers: { authorization: 'Bearer leaky' } });
    assert.equal(r.status, 200);
    const code = await demo.stop('SIGTERM');
    assert.equal(code, 0, demo.output());
    const stdout = demo
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const handler = stdout.find((l) => l.message === 'user looked up');
    const access = stdout.find((l) => l.type === 'access' && l.route === '/users/:id');
    assert.ok(handler && access, demo.output());
    assert.equal(handler.service, 'demo-logs');
    assert.match(String(handler.trace_id), /^[0-9a-f]{32}$/);
    assert.equal(access.trace_id, handler.trace_id);
    assert.equal(demo.output().includes('leaky'), false);

    const docs = es.documents();
    const esHandler = docs.find((d) => d.message === 'user looked up');
    assert.equal(esHandler?.['trace.id'], handler.trace_id);
    assert.ok(docs.some((d) => d['log.logger'] === 'access' && d['http.route'] === '/users/:id' && d['trace.id'] === handler.trace_id));
    assert.equal(es.requests[0]?.authorization, `Basic ${Buffer.from('elastic:s3cret').toString('base64')}`);
    assert.equal(JSON.stringify(docs).includes('leaky'), false);

    await waitFor(() => loki.entries.some((e) => e.line.includes('user looked up')), 2000, 20, 'loki entry');
    const lokiLine = loki.entries.find((e) => e.line.includes('user looked up'));
    assert.deepEqual(lokiLine?.labels, { service: 'demo-logs', level: 'info' });
    assert.equal(JSON.parse(String(lokiLine?.line)).trace_id, handler.trace_id);
  });

  it('SPOOL_DIR: a line logged during an Elasticsearch outage is kept in the spool at SIGTERM (exit 0) and delivered by the next start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-demo-spool-'));
    const down = await startElasticsearchStandIn();
    try {
      await down.refuse();
      const first = await startDemo({ ELASTICSEARCH_URL: down.url, SPOOL_DIR: dir, OTEL_SERVICE_NAME: 'demo-spool' });
      assert.equal((await request(first.url, '/users/7')).status, 200);
      assert.equal(await first.stop('SIGTERM'), 0, first.output());
      assert.match(first.output(), /kept in the spool for the next start: elasticsearch: \d+ log lines in /);
      assert.ok(readdirSync(path.join(dir, 'elasticsearch')).some((n) => n.endsWith('.seg')));
      await down.reopen();
      const second = await startDemo({ ELASTICSEARCH_URL: down.url, SPOOL_DIR: dir, OTEL_SERVICE_NAME: 'demo-spool' });
      await waitFor(() => down.documents().some((d) => d.message === 'user looked up'), 10_000, 50, 'the spooled line');
      assert.equal(await second.stop('SIGTERM'), 0, second.output());
    } finally {
      await down.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
