import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { samples } from './support/exposition';
import { listen, request, type Listening } from './support/http';

describe('MetricsCollector', () => {
  let obs: Observability;
  let srv: Listening;
  before(async () => {
    obs = createObservability({ serviceName: 'collector', metrics: { defaultMetrics: false } });
    const app = express();
    app.use(obs.router);
    srv = await listen(app);
  });
  after(async () => {
    await srv.close();
    await obs.shutdown();
  });

  it('counter, gauge and histogram with labels reach the scrape', async () => {
    const c = obs.metrics.counter('orders_placed_total', 'Orders placed.', ['channel']);
    obs.metrics.gauge('queue_depth', 'Jobs waiting.', ['queue']);
    obs.metrics.histogram('job_seconds', 'Job duration.', ['kind'], [0.1, 1, 10]);
    obs.metrics.inc('orders_placed_total', { channel: 'web' });
    obs.metrics.inc('orders_placed_total', { channel: 'web' }, 2);
    c.inc({ channel: 'app' });
    obs.metrics.set('queue_depth', { queue: 'mail' }, 7);
    obs.metrics.observe('job_seconds', { kind: 'resize' }, 0.5);
    obs.metrics.observe('job_seconds', { kind: 'resize' }, 5);
    const text = (await request(srv.url, '/metrics')).body;
    assert.equal(samples(text, 'orders_placed_total', { channel: 'web' })[0]?.value, 3);
    assert.equal(samples(text, 'orders_placed_total', { channel: 'app' })[0]?.value, 1);
    assert.equal(samples(text, 'queue_depth', { queue: 'mail' })[0]?.value, 7);
    assert.equal(samples(text, 'job_seconds_bucket', { kind: 'resize', le: '1' })[0]?.value, 1);
    assert.equal(samples(text, 'job_seconds_bucket', { kind: 'resize', le: '10' })[0]?.value, 2);
    assert.equal(samples(text, 'job_seconds_count', { kind: 'resize' })[0]?.value, 2);
  });

  it('returns the same metric for the same definition', () => {
    const a = obs.metrics.counter('same_total', 'Same.', ['a']);
    const b = obs.metrics.counter('same_total', 'Same.', ['a']);
    assert.equal(a, b);
    const h1 = obs.metrics.histogram('same_seconds', 'Same.', [], [1, 2]);
    assert.equal(obs.metrics.histogram('same_seconds', 'Same.', [], [1, 2]), h1);
  });

  it('throws a clear error when a name comes back with another type, labels or buckets', () => {
    obs.metrics.counter('conflict_total', 'Conflict.', ['a']);
    assert.throws(() => obs.metrics.gauge('conflict_total', 'Conflict.', ['a']), /"conflict_total" already exists as a counter, cannot redefine it as a gauge/);
    assert.throws(() => obs.metrics.counter('conflict_total', 'Conflict.', ['b']), /"conflict_total" already exists with labels \[a\], not \[b\]/);
    obs.metrics.histogram('conflict_seconds', 'Conflict.', [], [1, 2]);
    assert.throws(() => obs.metrics.histogram('conflict_seconds', 'Conflict.', [], [1, 3]), /other buckets/);
    assert.throws(() => obs.metrics.counter('http_server_request_duration_seconds', 'x'), /already exists as a histogram/);
  });

  it('rejects invalid metric and label names, naming them', () => {
    assert.throws(() => obs.metrics.counter('bad-name', 'x'), /invalid metric name "bad-name"/);
    assert.throws(() => obs.metrics.counter('9lives', 'x'), /invalid metric name "9lives"/);
    assert.throws(() => obs.metrics.gauge('ok_name', 'x', ['bad-label']), /invalid label name "bad-label" on metric "ok_name"/);
    assert.throws(() => obs.metrics.gauge('ok_name2', 'x', ['__reserved']), /invalid label name "__reserved"/);
    assert.throws(() => obs.metrics.histogram('ok_hist', 'x', ['le']), /"le" is reserved/);
    assert.throws(() => obs.metrics.histogram('ok_hist2', 'x', [], [1, -1]), /must increase strictly|negative/);
    assert.throws(() => obs.metrics.counter('ok_name3', ''), /non-empty help/);
    assert.throws(() => obs.metrics.inc('never_defined_total'), /no counter named "never_defined_total"/);
    assert.throws(() => obs.metrics.set('orders_placed_total', {}, 1), /is a counter, not a gauge/);
  });

  it('two instances in one process keep separate registries', async () => {
    const a = createObservability({ serviceName: 'a', metrics: { defaultMetrics: false } });
    const b = createObservability({ serviceName: 'b', metrics: { defaultMetrics: false } });
    try {
      assert.notEqual(a.registry, b.registry);
      a.metrics.counter('only_in_a_total', 'A only.').inc();
      b.metrics.counter('only_in_b_total', 'B only.').inc(5);
      const appA = express();
      appA.use(a.middleware);
      appA.use(a.router);
      appA.get('/x/:id', (_req, res) => {
        res.end('a');
      });
      const appB = express();
      appB.use(b.middleware);
      appB.use(b.router);
      const sa = await listen(appA);
      const sb = await listen(appB);
      try {
        await request(sa.url, '/x/1');
        const ta = (await request(sa.url, '/metrics')).body;
        const tb = (await request(sb.url, '/metrics')).body;
        assert.equal(samples(ta, 'only_in_a_total')[0]?.value, 1);
        assert.equal(samples(ta, 'only_in_b_total').length, 0);
        assert.equal(samples(tb, 'only_in_b_total')[0]?.value, 5);
        assert.equal(samples(tb, 'only_in_a_total').length, 0);
        assert.equal(samples(ta, 'http_server_request_duration_seconds_count', { route: '/x/:id' }).length, 1);
        assert.equal(samples(tb, 'http_server_request_duration_seconds_count').length, 0);
      } finally {
        await sa.close();
        await sb.close();
      }
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });
});
