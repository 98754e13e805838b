import assert from 'node:assert/strict';
import { hasSubscribers } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { samples } from './support/exposition';
import { abortAfter, listen, request, waitFor } from './support/http';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';

/** An instance exporting spans to `receiver` and appending its access lines to a file in a fresh directory. */
function recordingInstance(receiver: OtlpReceiver): { obs: Observability; file: string; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-request-end-'));
  const file = path.join(dir, 'access.log');
  const obs = createObservability({
    serviceName: 'request-end',
    metrics: { defaultMetrics: false },
    tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20 },
    logging: { stdout: false, file },
    system: { enabled: false },
  });
  return { obs, file, dir };
}

/** The access lines of `file`. */
function accessLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.type === 'access');
}

/** Send `paths` one after another on one keep-alive connection, then return the raw responses. */
function keepAlive(base: string, paths: readonly string[]): Promise<string> {
  const u = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  return (async () => {
    let bodies = '';
    for (const path of paths) {
      bodies += await new Promise<string>((resolve, reject) => {
        const req = http.get({ host: u.hostname, port: u.port, path, agent }, (res) => {
          sockets.add(res.socket);
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        });
        req.on('error', reject);
      });
    }
    agent.destroy();
    assert.equal(sockets.size, 1, 'every request went over the same connection');
    return bodies;
  })();
}

describe('how the end of a request is observed', () => {
  it('records every request of a keep-alive connection once, and an aborted one as aborted', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false }, logging: { enabled: false } });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.get('/k/:n', (req, res) => {
      res.send(`k${req.params.n};`);
    });
    app.get('/hang/:n', () => {
      // never answers: the client gives up
    });
    const srv = await listen(app);
    try {
      assert.equal(await keepAlive(srv.url, ['/k/1', '/k/2', '/k/3', '/k/4']), 'k1;k2;k3;k4;');
      await abortAfter(srv.url, '/hang/1', 100);
      const text = await waitFor(async () => {
        const t = (await request(srv.url, '/metrics')).body;
        return samples(t, 'http_server_aborted_requests_total', { route: '/hang/:n' }).length > 0 ? t : undefined;
      }, 5000, 50, 'the aborted request');
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/k/:n', status_code: '200' })[0]?.value, 4);
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/hang/:n', status_code: 'aborted' })[0]?.value, 1);
      assert.equal(samples(text, 'http_server_active_requests')[0]?.value, 0);
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });

  it('measures a request whose response is not Node’s (a test double emitting finish and close)', async () => {
    const obs = createObservability({ metrics: { defaultMetrics: false }, logging: { enabled: false } });
    try {
      const req = Object.assign(new EventEmitter(), { method: 'GET', url: '/double/1', headers: {}, socket: null });
      const res = Object.assign(new EventEmitter(), { req, statusCode: 201, writableFinished: true, headersSent: true, getHeader: () => undefined });
      obs.middleware(req as never, res as never, () => undefined);
      res.emit('finish');
      res.emit('close');
      const text = await obs.registry.metrics();
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { status_code: '201' })[0]?.value, 1);
    } finally {
      await obs.shutdown();
    }
  });

  it('records a request still in flight during shutdown(), then stops listening to Node’s finish channel', async () => {
    assert.equal(hasSubscribers('http.server.response.finish'), false, 'no subscriber left by earlier tests');
    const obs = createObservability({ metrics: { defaultMetrics: false }, logging: { enabled: false } });
    const app = express();
    app.use(obs.middleware);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    app.get('/slow/:n', async (_req, res) => {
      await gate;
      res.send('done');
    });
    const srv = await listen(app);
    try {
      const pending = request(srv.url, '/slow/1');
      await waitFor(() => obs.registry.metrics().then((t) => samples(t, 'http_server_active_requests')[0]?.value === 1), 5000, 20, 'request in flight');
      assert.equal(hasSubscribers('http.server.response.finish'), true);
      const stopping = obs.shutdown();
      release();
      assert.equal((await pending).body, 'done');
      await stopping;
      const text = await obs.registry.metrics();
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/slow/:n' })[0]?.value, 1);
      assert.equal(samples(text, 'http_server_active_requests')[0]?.value, 0);
      assert.equal(hasSubscribers('http.server.response.finish'), false, 'the subscription ended with the last request it watched');
    } finally {
      await srv.close();
    }
  });

  it('times each request to the end of its response, however long the rest of that event-loop turn runs', async () => {
    const receiver = await startOtlpReceiver();
    const { obs, file, dir } = recordingInstance(receiver);
    const app = express();
    app.use(obs.middleware);
    let finishedAt = 0;
    app.get('/busy/:n', (_req, res) => {
      // The application's own 'finish' listener keeps the event loop busy for 300 ms after the response finished.
      res.on('finish', () => {
        finishedAt = Date.now();
        const until = performance.now() + 300;
        while (performance.now() < until);
      });
      res.send('ok');
    });
    const srv = await listen(app);
    try {
      assert.equal((await request(srv.url, '/busy/1')).body, 'ok');
      await obs.shutdown();
      const text = await obs.registry.metrics();
      const seconds = samples(text, 'http_server_request_duration_seconds_sum', { route: '/busy/:n' })[0]?.value;
      assert.ok(seconds !== undefined && seconds < 0.2, `histogram: ${seconds} s`);
      const span = receiver.spans.find((s) => s.name === 'GET /busy/:n');
      assert.ok(span, 'the span was exported');
      const spanMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
      assert.ok(spanMs >= 0 && spanMs < 200, `span: ${spanMs} ms`);
      const [line] = accessLines(file);
      assert.ok(line, 'the access line was written');
      assert.ok(typeof line.duration_ms === 'number' && line.duration_ms < 200, `access line: ${JSON.stringify(line)}`);
      const at = Date.parse(String(line.timestamp));
      assert.ok(at <= finishedAt + 1 && at >= finishedAt - 200, `access line at ${String(line.timestamp)}, response finished at ${new Date(finishedAt).toISOString()}`);
    } finally {
      await srv.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records, exports and logs a request whose response finished in the same turn as shutdown()', async () => {
    const receiver = await startOtlpReceiver();
    const { obs, file, dir } = recordingInstance(receiver);
    const app = express();
    app.use(obs.middleware);
    let stopping: Promise<unknown> | undefined;
    app.get('/last/:n', (_req, res) => {
      res.on('finish', () => {
        stopping = obs.shutdown();
      });
      res.send('bye');
    });
    const srv = await listen(app);
    try {
      assert.equal((await request(srv.url, '/last/1')).body, 'bye');
      assert.ok(stopping, 'shutdown() was called when the response finished');
      await stopping;
      const text = await obs.registry.metrics();
      assert.equal(samples(text, 'http_server_request_duration_seconds_count', { route: '/last/:n', status_code: '200' })[0]?.value, 1);
      assert.ok(receiver.spans.some((s) => s.name === 'GET /last/:n'), `exported: ${receiver.spans.map((s) => s.name).join(', ')}`);
      assert.equal(accessLines(file).filter((l) => String(l.message).startsWith('GET /last/1')).length, 1);
      assert.doesNotMatch(text, /observability_spans_dropped_total\{[^}]*\} [1-9]/);
    } finally {
      await srv.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows a request to in-process readers of spans as soon as its client has the response, even one written from a timer', async () => {
    const obs = createObservability({
      serviceName: 'readers',
      metrics: { defaultMetrics: false },
      logging: { enabled: false },
      system: { enabled: false },
      tracing: { ringBufferSize: 100 },
    });
    const app = express();
    app.use(obs.middleware);
    app.get('/later/:n', (req, res) => {
      // Written from a timer: a client in this process reads it before the event-loop turn ends.
      setTimeout(() => res.send(`later ${req.params.n}`), 5);
    });
    const srv = await listen(app);
    try {
      assert.equal((await request(srv.url, '/later/1')).body, 'later 1');
      const [listed] = obs.tracing.recentTraces({ route: '/later/:n' });
      assert.equal(listed?.name, 'GET /later/:n');
      assert.equal(listed.statusCode, 200);
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
      assert.equal((await request(srv.url, '/later/2', { headers: { traceparent } })).body, 'later 2');
      const spans = obs.tracing.getTrace(traceId);
      assert.equal(spans?.length, 1);
      assert.equal(spans[0]?.attributes['url.path'], '/later/2');
    } finally {
      await srv.close();
      await obs.shutdown();
    }
  });
});
