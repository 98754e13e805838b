/**
 * docs/nestjs.md's example, exactly as written: compiled by TypeScript with `experimentalDecorators`
 * and `emitDecoratorMetadata` (what a Nest project uses), run in a child process against this
 * package's build (dist/, as `npm test` builds it), asserted on the wire.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { ROOT } from './support/demo';
import { samples } from './support/exposition';
import { request, waitFor } from './support/http';
import { OTLP_STATUS, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { stopChild } from './support/process';

const DURATION = 'http_server_request_duration_seconds_count';

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
