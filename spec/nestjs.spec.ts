/**
 * NestJS 12 on its Express platform: the observability router under Nest's module middleware
 * (`consumer.apply(obs.middleware, obs.router).forRoutes('*')`), and `obs.exceptionFilter()` for
 * the exceptions Nest answers itself. The Nest app is built with Nest's decorators applied as plain
 * functions (tsx compiles with esbuild, which emits no decorator metadata; nothing here needs it).
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Catch,
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { BaseExceptionFilter, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Response } from 'express';
import ts from 'typescript';
import { createObservability, type Observability, type ObservabilityOptions } from '../lib';
import { ROOT } from './support/demo';
import { samples } from './support/exposition';
import { request, waitFor } from './support/http';
import { captureLogs, type LogCapture } from './support/log-capture';
import { OTLP_STATUS, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { stopChild } from './support/process';

const DURATION = 'http_server_request_duration_seconds_count';

/** Apply a method decorator the way TypeScript's `experimentalDecorators` output does. */
function decorate(target: object, key: string, ...decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key) as PropertyDescriptor;
  for (const d of decorators) d(target, key, descriptor);
}

class DbDownError extends Error {
  override name = 'DbDownError';
}

/** A guard that fails (a bug, not a refusal): Nest answers 500 before any interceptor runs. */
const explodingGuard: CanActivate = {
  canActivate(): boolean {
    throw new RangeError('guard exploded');
  },
};

class UsersController {
  get(id: string): { id: string } {
    return { id };
  }
  crash(id: string): never {
    throw new TypeError(`kaboom for user ${id}`);
  }
  missing(id: string): never {
    throw new NotFoundException(`no user ${id}`);
  }
  guarded(): string {
    return 'unreachable';
  }
  db(): never {
    throw new DbDownError('primary database unreachable');
  }
}
Controller('users')(UsersController);
{
  const p = UsersController.prototype;
  Param('id')(p, 'get', 0);
  Param('id')(p, 'crash', 0);
  Param('id')(p, 'missing', 0);
  decorate(p, 'get', Get(':id'));
  decorate(p, 'crash', Get(':id/crash'));
  decorate(p, 'missing', Get(':id/missing'));
  decorate(p, 'guarded', Get('admin/guarded'), UseGuards(explodingGuard));
  decorate(p, 'db', Get('admin/db'));
}

/** A filter of the application's own, for one exception type: answers 503. */
class DbDownFilter implements ExceptionFilter<DbDownError> {
  catch(_exception: DbDownError, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<Response>().status(503).json({ database: 'down' });
  }
}
Catch(DbDownError)(DbDownFilter);

interface Running {
  readonly obs: Observability;
  readonly app: INestApplication;
  readonly url: string;
  readonly logs: LogCapture;
}

/**
 * A Nest app on 127.0.0.1:0. `module`: what its module's `configure()` applies to every route
 * (`forRoutes('*')`); `setup` wires the rest of the observability stack into the app.
 */
async function startNest(
  receiver: OtlpReceiver,
  module: (obs: Observability) => Parameters<MiddlewareConsumer['apply']>,
  setup: (app: INestApplication, obs: Observability) => void,
  options: ObservabilityOptions = {},
): Promise<Running> {
  const logs = captureLogs();
  const obs = createObservability({
    serviceName: 'nest-svc',
    metrics: { defaultMetrics: false },
    system: { enabled: false },
    tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20 },
    logging: { stdout: false, transports: [logs.transport] },
    ...options,
  });
  const applied = module(obs);
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      if (applied.length > 0) consumer.apply(...applied).forRoutes('*');
    }
  }
  Module({ controllers: [UsersController] })(AppModule);
  const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
  setup(app, obs);
  await app.listen(0, '127.0.0.1');
  return { obs, app, url: await app.getUrl(), logs };
}

async function stopNest(running: Running | undefined): Promise<void> {
  if (!running) return;
  await running.app.close();
  await running.obs.shutdown();
}

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
    nest = await startNest(receiver, (obs) => [obs.middleware, obs.router], () => undefined);
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
    assert.equal(await unmatched(), before + 1, '/favicon.ico (excluded by default) is not');
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

describe('docs/nestjs.md: the example, compiled by TypeScript with decorators and decorator metadata, runs as written', () => {
  let receiver: OtlpReceiver;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let out = '';
  let url = '';
  const lines = (): Record<string, unknown>[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  before(async () => {
    receiver = await startOtlpReceiver();
    const doc = readFileSync(path.join(ROOT, 'docs', 'nestjs.md'), 'utf8');
    const code = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(code, 'docs/nestjs.md has a ts block under "## Example"');
    const js = ts.transpileModule(code, {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
      },
    }).outputText;
    // Run from the repository root: `express-observability` resolves to this package's build (dist/).
    child = spawn(process.execPath, ['-e', js], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl, OTEL_BSP_SCHEDULE_DELAY: '20' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    exited = new Promise((resolve) => proc.once('exit', resolve));
    url = await waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`the example exited early:\n${out}`);
        return lines().find((l) => l.message === 'listening')?.url as string | undefined;
      },
      20_000,
      50,
      'the example to listen',
    );
  });
  after(async () => {
    if (child) await stopChild(child, exited);
    await receiver.close();
  });

  it('labels, endpoints under forRoutes("*"), and a Nest-handled 500 on the exported span and the access line', async () => {
    assert.deepEqual(JSON.parse((await request(url, '/users/42')).body), { id: '42' });
    assert.equal((await request(url, '/users/0')).status, 404);
    const traceId = '4af7651916cd43dd8448eb211c80319c';
    const res = await request(url, '/users/42/orders', { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(res.body), { statusCode: 500, message: 'Internal server error' });

    const metrics = await request(url, '/metrics');
    assert.equal(metrics.status, 200);
    const series = samples(metrics.body, DURATION).map((s) => `${s.labels.route} ${s.labels.status_code}`).sort();
    assert.deepEqual(series, ['/users/:id 200', '/users/:id 404', '/users/:id/orders 500']);
    const health = await request(url, '/health');
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status: string }).status, 'pass');

    const spans = await receiver.waitForSpans((s) => s.some((x) => x.traceId === traceId));
    const span = spans.find((s) => s.traceId === traceId) as ReceivedSpan;
    assert.equal(span.name, 'GET /users/:id/orders');
    assert.deepEqual(span.status, { code: OTLP_STATUS.ERROR, message: 'orders of user 42 unavailable' });
    assert.equal(span.events.filter((e) => e.name === 'exception').length, 1);
    const notFound = spans.find((s) => s.name === 'GET /users/:id' && s.attributes['http.response.status_code'] === 404);
    assert.equal(notFound?.status.code, OTLP_STATUS.UNSET);

    const line = await waitFor(() => lines().find((l) => l.type === 'access' && l.path === '/users/42/orders'));
    assert.equal(line.level, 'error');
    assert.equal(line.trace_id, traceId);
    assert.equal((line.error as Record<string, unknown>).message, 'orders of user 42 unavailable');
  });
});
