import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createObservability, LokiTransport, type DeadLetter } from '../lib';
import { startLokiStandIn, type LokiStandIn } from './support/loki-standin';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FAST = { flushIntervalMs: 20, retryInitialMs: 10, retryMaxMs: 100, timeoutMs: 250 } as const;

describe('Loki transport against the push API stand-in', () => {
  let loki: LokiStandIn;
  before(async () => {
    loki = await startLokiStandIn();
  });
  after(async () => {
    await loki.stop();
  });

  it('pushes JSON streams labelled by service and level, nanosecond string timestamps, our JSON lines', async () => {
    loki.entries.length = 0;
    const obs = createObservability({
      serviceName: 'cart',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false, loki: { url: loki.url, labels: { env: 'test' }, ...FAST } },
    } as never);
    obs.logger.info('added', { sku: 'A1', cookie: 'c=SECRET' });
    obs.logger.warn('low stock');
    await obs.shutdown();
    assert.equal(loki.pushes[0]?.contentType, 'application/json');
    assert.equal(loki.pushes[0]?.status, 204);
    const byMessage = new Map(loki.entries.map((e) => [JSON.parse(e.line).message as string, e]));
    const added = byMessage.get('added');
    assert.deepEqual(added?.labels, { env: 'test', service: 'cart', level: 'info' });
    assert.deepEqual(byMessage.get('low stock')?.labels, { env: 'test', service: 'cart', level: 'warn' });
    assert.match(String(added?.ts), /^\d{19}$/);
    assert.ok(Math.abs(Number(BigInt(String(added?.ts)) / 1_000_000n) - Date.now()) < 60_000);
    assert.equal(JSON.parse(String(added?.line)).sku, 'A1');
    assert.equal(added?.line.includes('SECRET'), false);
  });

  it('stores every line once, with the right labels and in order per stream, through a 429 spell and a restart', async () => {
    loki.entries.length = 0;
    const registry = new Registry();
    const transport = new LokiTransport({ url: loki.url, batchSize: 40, registry, ...FAST });
    const { default: winston } = await import('winston');
    const logger = winston.createLogger({
      levels: { error: 0, warn: 1, info: 2 },
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      defaultMeta: { service: 'restart-svc' },
      transports: [transport],
    });
    const written: Record<string, string[]> = { info: [], warn: [], error: [] };
    let n = 0;
    const levels = ['info', 'warn', 'error'] as const;
    const writer = setInterval(() => {
      for (let i = 0; i < 10; i++) {
        const level = levels[n % 3] as (typeof levels)[number];
        const msg = `${level} ${n++}`;
        written[level]?.push(msg);
        logger.log(level, msg);
      }
    }, 5);
    await sleep(100);
    loki.failPushes(429);
    await sleep(300);
    loki.failPushes(null);
    await loki.refuse();
    await sleep(400);
    await loki.reopen();
    await sleep(100);
    clearInterval(writer);
    await transport.flush();
    assert.ok(loki.pushes.some((p) => p.status === 429), 'rate limited for a while');
    const total = Object.values(written).reduce((a, l) => a + l.length, 0);
    assert.equal(loki.entries.length, total, `stored ${loki.entries.length} of ${total}`);
    for (const level of levels) {
      const stream = loki.entries.filter((e) => e.labels.level === level);
      for (const e of stream) assert.deepEqual(e.labels, { service: 'restart-svc', level });
      assert.deepEqual(stream.map((e) => JSON.parse(e.line).message), written[level], `order and uniqueness of the ${level} stream`);
      const ts = stream.map((e) => BigInt(e.ts));
      for (let i = 1; i < ts.length; i++) assert.ok((ts[i] as bigint) > (ts[i - 1] as bigint), 'timestamps increase within a stream');
    }
    const stats = transport.stats();
    assert.equal(stats.shipped, total);
    assert.equal(stats.droppedTotal, 0);
    assert.ok(stats.retried > 0);
    await transport.shutdown(1000);
  });

  it('a 400 is not retried: the lines go to the dead-letter callback and the dropped counter', async () => {
    loki.entries.length = 0;
    loki.pushes.length = 0;
    loki.rejectLines((line) => line.includes('poison'));
    const dead: DeadLetter[] = [];
    const transport = new LokiTransport({ url: loki.url, onDeadLetter: (l) => dead.push(...l), ...FAST });
    const { default: winston } = await import('winston');
    const logger = winston.createLogger({ transports: [transport] });
    logger.info('fine');
    logger.info('poison pill');
    await transport.flush();
    loki.rejectLines(null);
    assert.equal(loki.pushes.length, 1, 'no retry after 400');
    assert.equal(loki.pushes[0]?.status, 400);
    assert.equal(dead.length, 2, 'the whole rejected request is dead-lettered (Loki does not say which entry failed)');
    assert.match(dead[0]?.detail ?? '', /^push answered 400/);
    assert.equal(transport.stats().dropped.rejected, 2);
    await transport.shutdown(1000);
  });
});
