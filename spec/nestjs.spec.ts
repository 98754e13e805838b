/**
 * NestJS 12 on its Express platform: the observability router under Nest's module middleware
 * (`consumer.apply(obs.middleware, obs.router).forRoutes('*')`), and `obs.exceptionFilter()` for
 * the exceptions Nest answers itself. The app: spec/fixtures/nest-app.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BaseExceptionFilter } from '@nestjs/core';
import { DbDownFilter, startNest, stopNest, type Running } from './fixtures/nest-app';
import { samples } from './support/exposition';
import { request } from './support/http';
import type { LogCapture } from './support/log-capture';
import { OTLP_STATUS, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';

const DURATION = 'http_server_request_duration_seconds_count';

function accessLine(logs: LogCapture, path: string): Record<string, unknown> {
  const found = logs.lines().filter((l) => l.type === 'access' && l.path === path);
  assert.equal(found.length, 1, `one access line for ${path}, got ${found.length}`);
  return found[0] as Record<string, unknown>;
}

describe("NestJS module middleware: consumer.apply(obs.middleware, obs.router).forRoutes('*')", () => {
  let receiver: OtlpReceiver;
  let nest: Running | undefined;
  before(async () => {
    receiver = await startOtlpReceiver();
    nest = await startNest(receiver, (obs) => [obs.middleware, obs.router], () => undefined, { metrics: { defaultMetrics: false, excludePaths: ['/favicon.ico'] } });
  });
  after(async () => {
    await stopNest(nest);
    await receiver.close();
  });

  it('serves /metrics, /health, /health/live, /health/ready and /dashboard, with Nest route templates as labels', async () => {
    const { url } = nest as Running;
    assert.equal((await request(url, '/users/42')).status, 200);
    assert.equal((await request(url, '/users/43')).status, 200);
    const metrics = await request(url, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.deepEqual(samples(metrics.body, DURATION, { route: '/users/:id' }).map((s) => [s.labels.status_code, s.value]), [['200', 2]]);
    for (const path of ['/health', '/health/live', '/health/ready', '/health?verbose=1']) {
      const res = await request(url, path);
      assert.equal(res.status, 200, path);
      assert.match(String(res.headers['content-type']), /^application\/health\+json/, path);
      assert.equal((JSON.parse(res.body) as { status: string }).status, 'pass', path);
    }
    const dash = await request(url, '/dashboard');
    assert.equal(dash.status, 200);
    assert.match(dash.body, /<html/i);
    const summary = await request(url, '/dashboard/api/summary');
    assert.equal(summary.status, 200);
    assert.equal(typeof (JSON.parse(summary.body) as Record<string, unknown>), 'object');
    const alerts = await request(url, '/alerts');
    assert.equal(alerts.status, 200);
    assert.match(String(alerts.headers['content-type']), /^application\/json/);
    // The router's own answers are not measured; a path it does not serve is still Nest's 404.
    const after = await request(url, '/metrics');
    assert.deepEqual(
      [...new Set(samples(after.body, DURATION).map((s) => s.labels.route))],
      ['/users/:id'],
      'only the application route is measured',
    );
    const nope = await request(url, '/metricsx');
    assert.equal(nope.status, 404);
    assert.match(nope.body, /Cannot GET \/metricsx/);
  });

  it('applies excludePaths to the path the client asked for (Nest leaves req.url at "/")', async () => {
    const { url } = nest as Running;
    const unmatched = async (): Promise<number> =>
      samples((await request(url, '/metrics')).body, DURATION, { route: 'unmatched' }).reduce((n, s) => n + s.value, 0);
    const before = await unmatched();
    assert.equal((await request(url, '/nothing-here')).status, 404);
    assert.equal(await unmatched(), before + 1, 'a 404 elsewhere is measured');
    assert.equal((await request(url, '/favicon.ico')).status, 404);
    assert.equal(await unmatched(), before + 1, '/favicon.ico (in excludePaths) is not');
  });

  it('with middlewareEndpoints: true, consumer.apply(obs.middleware) alone serves the endpoints', async () => {
    const other = await startNest(receiver, (obs) => [obs.middleware], () => undefined, { middlewareEndpoints: true });
    try {
      assert.equal((await request(other.url, '/users/5')).status, 200);
      const metrics = await request(other.url, '/metrics');
      assert.equal(metrics.status, 200);
      assert.equal(samples(metrics.body, DURATION, { route: '/users/:id', status_code: '200' }).length, 1);
      assert.equal((await request(other.url, '/health/ready')).status, 200);
    } finally {
      await stopNest(other);
    }
  });
});

describe('NestJS exception filter: obs.exceptionFilter(new BaseExceptionFilter(adapter))', () => {
  let receiver: OtlpReceiver;
  let nest: Running | undefined;
  before(async () => {
    receiver = await startOtlpReceiver();
    nest = await startNest(receiver, () => [], (app, obs) => {
      app.use(obs.middleware);
      app.use('/observability', obs.router);
      app.useGlobalFilters(obs.exceptionFilter(new BaseExceptionFilter(app.getHttpAdapter())), obs.exceptionFilter(new DbDownFilter()));
    });
  });
  after(async () => {
    await stopNest(nest);
    await receiver.close();
    assert.deepEqual(receiver.errors, []);
  });

  async function spanOf(traceId: string): Promise<ReceivedSpan> {
    const spans = await receiver.waitForSpans((s) => s.some((x) => x.traceId === traceId));
    const mine = spans.filter((s) => s.traceId === traceId);
    assert.equal(mine.length, 1);
    return mine[0] as ReceivedSpan;
  }

  it('a Nest-handled 500: Nest still answers; the span has the exception event, ERROR and the message; the access line the error', async () => {
    const { url, logs } = nest as Running;
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await request(url, '/users/7/crash', { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(res.body), { statusCode: 500, message: 'Internal server error' }, "Nest's own answer");
    const span = await spanOf(traceId);
    assert.equal(span.name, 'GET /users/:id/crash');
    assert.equal(span.attributes['http.response.status_code'], 500);
    assert.equal(span.attributes['error.type'], 'TypeError');
    assert.deepEqual(span.status, { code: OTLP_STATUS.ERROR, message: 'kaboom for user 7' });
    const events = span.events.filter((e) => e.name === 'exception');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.attributes['exception.type'], 'TypeError');
    assert.equal(events[0]?.attributes['exception.message'], 'kaboom for user 7');
    assert.match(String(events[0]?.attributes['exception.stacktrace']), /UsersController\.crash/);
    const line = accessLine(logs, '/users/7/crash');
    assert.equal(line.level, 'error');
    assert.equal(line.status, 500);
    assert.equal(line.trace_id, traceId);
    const error = line.error as Record<string, unknown>;
    assert.equal(error.name, 'TypeError');
    assert.equal(error.message, 'kaboom for user 7');
    assert.match(String(error.stack), /UsersController\.crash/);
  });

  it('an exception a guard throws (before any interceptor) is recorded too', async () => {
    const { url, logs } = nest as Running;
    const traceId = '1af7651916cd43dd8448eb211c80319c';
    const res = await request(url, '/users/admin/guarded', { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(res.status, 500);
    const span = await spanOf(traceId);
    assert.deepEqual(span.status, { code: OTLP_STATUS.ERROR, message: 'guard exploded' });
    assert.equal(span.events.find((e) => e.name === 'exception')?.attributes['exception.type'], 'RangeError');
    assert.equal((accessLine(logs, '/users/admin/guarded').error as Record<string, unknown>).message, 'guard exploded');
  });

  it("4xx answers (NotFoundException) are no errors: span status UNSET, no exception event, access line without error", async () => {
    const { url, logs } = nest as Running;
    const traceId = '2af7651916cd43dd8448eb211c80319c';
    const res = await request(url, '/users/9/missing', { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.body), { statusCode: 404, message: 'no user 9', error: 'Not Found' });
    const span = await spanOf(traceId);
    assert.equal(span.name, 'GET /users/:id/missing');
    assert.equal(span.status.code, OTLP_STATUS.UNSET);
    assert.deepEqual(span.events, []);
    const line = accessLine(logs, '/users/9/missing');
    assert.equal(line.level, 'warn');
    assert.equal(line.error, undefined);
  });

  it("a wrapped filter keeps its @Catch() types and its answer; the 503 it sends carries the exception", async () => {
    const { url, logs } = nest as Running;
    const traceId = '3af7651916cd43dd8448eb211c80319c';
    const res = await request(url, '/users/admin/db', { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.body), { database: 'down' });
    const span = await spanOf(traceId);
    assert.deepEqual(span.status, { code: OTLP_STATUS.ERROR, message: 'primary database unreachable' });
    assert.equal(span.events.find((e) => e.name === 'exception')?.attributes['exception.type'], 'DbDownError');
    assert.equal((accessLine(logs, '/users/admin/db').error as Record<string, unknown>).name, 'DbDownError');
  });

  it('app.use("/observability", obs.router) on a Nest app still serves under its prefix only', async () => {
    const { url } = nest as Running;
    const metrics = await request(url, '/observability/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(samples(metrics.body, DURATION, { route: '/users/:id/crash', status_code: '500' }).length, 1);
    assert.equal((await request(url, '/observability/health/live')).status, 200);
    assert.equal((await request(url, '/metrics')).status, 404);
    assert.equal((await request(url, '/observability')).status, 404);
  });

  it('refuses anything without a catch() method with a TypeError naming exceptionFilter(filter)', () => {
    const { obs } = nest as Running;
    for (const bad of [undefined, null, {}, { catch: 1 }, () => undefined]) {
      assert.throws(() => obs.exceptionFilter(bad as never), (e: unknown) => e instanceof TypeError && /exceptionFilter\(filter\)/.test(e.message));
    }
  });
});


describe('NestJS with a global prefix (docs/nestjs.md, "Global prefix")', () => {
  let receiver: OtlpReceiver;
  let nest: Running | undefined;
  before(async () => {
    receiver = await startOtlpReceiver();
    nest = await startNest(
      receiver,
      (obs) => [obs.middleware],
      (app, obs) => {
        app.setGlobalPrefix('api');
        app.use(obs.router);
      },
    );
  });
  after(async () => {
    await stopNest(nest);
    await receiver.close();
  });

  it("requests no route matched are route=\"unmatched\" (Nest's not-found handler is a catch-all route under the prefix)", async () => {
    const { url } = nest as Running;
    assert.equal((await request(url, '/api/users/7')).status, 200);
    assert.equal((await request(url, '/api/no-such-route')).status, 404);
    assert.equal((await request(url, '/api/xyz/123')).status, 404);
    const text = (await request(url, '/metrics')).body;
    assert.equal(samples(text, DURATION, { route: '/api/users/:id', status_code: '200' }).length, 1);
    assert.equal(samples(text, DURATION, { route: 'unmatched', status_code: '404' })[0]?.value, 2);
    assert.doesNotMatch(text, /route="\/api\*path"/);
  });
});
