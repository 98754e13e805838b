import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { listen, request, type Listening } from './support/http';

// The dashboard keeps its recent spans and log lines serialised in fixed buffers (lib/util/byte-ring.ts):
// tracing.ringBufferSize spans at 4 KB each on average, dashboard.logBufferSize lines at 1 KB. What the
// trace viewer's API returns when the traffic is larger than that.

interface TraceJson {
  spans: Array<{ spanId: string; kind: string; name: string; attributes: Record<string, unknown> }>;
  logs: Array<{ message: string; traceId?: string; fields: Record<string, string> }>;
}

describe('dashboard rings: bounded by records and bytes', () => {
  let obs: Observability;
  let server: Listening;

  before(async () => {
    obs = createObservability({
      serviceName: 'rings-test',
      metrics: { defaultMetrics: false },
      system: { enabled: false },
      logging: { stdout: false, accessLog: false },
      tracing: { ringBufferSize: 4 },
      dashboard: { enabled: true, logBufferSize: 8 },
      views: true,
    });
    const app = express();
    app.use(obs.middleware);
    app.use(obs.router);
    app.get('/big', (_req, res) => {
      obs.tracing.setAttribute('big.value', 'x'.repeat(10_000));
      obs.logger.info('big line', { pad: 'y'.repeat(3000) });
      obs.logger.info('small line');
      res.json({ ok: true });
    });
    app.get('/n/:n', (req, res) => {
      obs.logger.info('numbered', { n: req.params.n });
      res.json({ n: req.params.n });
    });
    server = await listen(app);
  });
  after(async () => {
    await server?.close();
    await obs?.shutdown();
  });

  async function traceIdOf(route: string): Promise<string> {
    const list = JSON.parse((await request(server.url, `/dashboard/api/traces?route=${encodeURIComponent(route)}`)).body) as Array<{ traceId: string }>;
    assert.ok(list[0], `a trace of ${route} is listed`);
    return list[0].traceId;
  }

  it('keeps a span too large for its buffer without its attributes, marked; a long log line with its fields cut short', async () => {
    assert.equal((await request(server.url, '/big')).status, 200);
    const id = await traceIdOf('/big');
    const t = JSON.parse((await request(server.url, `/dashboard/api/traces/${id}`)).body) as TraceJson;
    const span = t.spans.find((s) => s.kind === 'SERVER');
    assert.ok(span, JSON.stringify(t));
    assert.equal(span.name, 'GET /big');
    // Marked, without the large attribute; what the trace list shows is kept.
    assert.deepEqual(span.attributes, {
      'express_observability.span_too_large': true,
      'http.request.method': 'GET',
      'http.route': '/big',
      'http.response.status_code': 200,
    });
    const big = t.logs.find((l) => l.message === 'big line');
    assert.ok(big, `the long line is joined to its trace: ${JSON.stringify(t.logs)}`);
    assert.equal(big.traceId, id);
    assert.equal(big.fields.pad, `${'y'.repeat(500)}…`);
    assert.ok(t.logs.some((l) => l.message === 'small line'));
  });

  it('holds only the newest spans and lines once full', async () => {
    for (let n = 0; n < 12; n++) assert.equal((await request(server.url, `/n/${n}`)).status, 200);
    const traces = JSON.parse((await request(server.url, '/dashboard/api/traces')).body) as Array<{ route?: string; traceId: string }>;
    assert.equal(traces.length, 4, JSON.stringify(traces));
    for (const t of traces) assert.equal(t.route, '/n/:n');
    const logs = JSON.parse((await request(server.url, '/dashboard/api/logs?limit=100')).body) as TraceJson['logs'];
    assert.equal(logs.length, 8);
    assert.deepEqual(
      logs.map((l) => l.fields.n),
      ['11', '10', '9', '8', '7', '6', '5', '4'],
    );
    // The four traces held are the last four requests', each joined to its own line.
    const joined: string[] = [];
    for (const t of traces) {
      const detail = JSON.parse((await request(server.url, `/dashboard/api/traces/${t.traceId}`)).body) as TraceJson;
      assert.deepEqual(
        detail.logs.map((l) => l.message),
        ['numbered'],
      );
      joined.push(String(detail.logs[0]?.fields.n));
    }
    assert.deepEqual(joined.sort(), ['10', '11', '8', '9']);
  });
});
