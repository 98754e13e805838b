import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type Observability } from '../lib';
import { listen, pool, request, type Listening } from './support/http';
import { OTLP_KIND, startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';

const T = '0af7651916cd43dd8448eb211c80319c';
const S = 'b7ad6b7169203331';
const hex = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => ((seed * 7 + i * 13) % 16).toString(16)).join('');

/** 1,000 malformed or hostile traceparent/tracestate pairs; none of them is a valid W3C traceparent. */
function hostileHeaders(): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const bigState = Array.from({ length: 64 }, (_, i) => `k${i}=${'v'.repeat(40)}`).join(',');
  const makers: Array<(i: number) => Record<string, string>> = [
    (i) => ({ traceparent: `ff-${hex(32, i)}-${S}-01` }), // forbidden version
    (i) => ({ traceparent: `${((i % 15) + 0xf0).toString(16).toUpperCase()}-${hex(32, i)}-${S}-01` }), // uppercase version
    () => ({ traceparent: `00-${'0'.repeat(32)}-${S}-01` }), // all-zero trace id
    (i) => ({ traceparent: `00-${hex(32, i)}-${'0'.repeat(16)}-01` }), // all-zero span id
    (i) => ({ traceparent: `00-${hex(32, i).toUpperCase().replace(/^./, 'A')}-${S}-01` }), // uppercase trace id
    (i) => ({ traceparent: `00-${hex(32, i)}-${S.toUpperCase().replace(/^./, 'B')}-01` }), // uppercase span id
    (i) => ({ traceparent: `00-${hex(31 + 2 * (i % 2), i)}-${S}-01` }), // trace id 31/33 chars
    (i) => ({ traceparent: `00-${hex(32, i)}-${hex(15 + 2 * (i % 2), i)}-01` }), // span id 15/17 chars
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}-${i % 2 ? '1' : '001'}` }), // flags 1/3 chars
    (i) => ({ traceparent: `0-${hex(32, i)}-${S}-01` }), // version 1 char
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}-01-extra${i}` }), // version 00 must have exactly four fields
    (i) => ({ traceparent: `00-${hex(32, i).replace(/.$/, 'g')}-${S}-01` }), // non-hex
    (i) => ({ traceparent: `00_${hex(32, i)}_${S}_01` }), // wrong separators
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}` }), // missing flags
    (i) => ({ traceparent: `00--${hex(32, i)}-${S}-01` }), // empty field
    () => ({ traceparent: '' }),
    (i) => ({ traceparent: ' '.repeat(1 + (i % 5)) }),
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}-01`.repeat(40) }), // oversized
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}-zz` }), // non-hex flags
    (i) => ({ traceparent: `\u00e9\u00e8-${hex(32, i)}-${S}-01` }), // latin-1 bytes
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}-01;drop table`, tracestate: bigState }), // junk + oversized tracestate
    (i) => ({ traceparent: `ff-${hex(32, i)}-${S}-01`, tracestate: `${'x'.repeat(600)}=1` }), // invalid + oversized tracestate
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}-01`.toUpperCase(), tracestate: ',,,=,==' }),
    (i) => ({ traceparent: `${'\t'}00 ${hex(32, i)} ${S} 01` }),
    (i) => ({ traceparent: `00-${hex(32, i)}-${S}-01`.split('').reverse().join('') }),
  ];
  for (let i = 0; out.length < 1000; i++) out.push((makers[i % makers.length] as (i: number) => Record<string, string>)(i));
  return out;
}

describe('tracing: incoming trace context', () => {
  let receiver: OtlpReceiver;
  let obs: Observability;
  let server: Listening;
  before(async () => {
    receiver = await startOtlpReceiver();
    obs = createObservability({
      metrics: { defaultMetrics: false },
      tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20, maxQueueSize: 4096, ringBufferSize: 10 },
    });
    const app = express();
    app.use(obs.middleware);
    app.get('/items/:n', (req, res) => {
      res.json({ n: req.params.n, outgoing: obs.tracing.inject({}) });
    });
    server = await listen(app);
  });
  after(async () => {
    await server.close();
    await obs.shutdown();
    await receiver.close();
    assert.deepEqual(receiver.errors, []);
  });

  it('1,000 malformed or hostile traceparent values each start a fresh valid trace and get a normal response', async () => {
    const headers = hostileHeaders();
    assert.equal(headers.length, 1000);
    await pool(headers, 25, async (h, i) => {
      const res = await request(server.url, `/items/${i}`, { headers: h });
      assert.equal(res.status, 200, `request ${i} (${JSON.stringify(h).slice(0, 120)}) answered normally`);
      const body = JSON.parse(res.body) as { n: string; outgoing: { traceparent?: string } };
      assert.equal(body.n, String(i));
      assert.match(body.outgoing.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'the new context is valid and propagates');
    });
    const spans = await receiver.waitForSpans((s) => s.length >= 1000, 30_000);
    assert.equal(spans.length, 1000, 'exactly one span per request');
    const seen = new Set<string>();
    for (const span of spans) {
      const i = Number(String(span.attributes['url.path']).split('/')[2]);
      const h = headers[i] as Record<string, string>;
      assert.equal(span.kind, OTLP_KIND.SERVER);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(span.traceId, '0'.repeat(32));
      assert.ok(!(h.traceparent ?? '').toLowerCase().includes(span.traceId), `request ${i} did not adopt an id from a malformed header`);
      assert.equal(span.parentSpanId, undefined, `request ${i} starts a new trace`);
      assert.equal(span.traceState, undefined, `request ${i} carries no tracestate`);
      assert.ok(!seen.has(span.traceId), 'every trace id is fresh');
      seen.add(span.traceId);
    }
  });

  it('a valid traceparent is continued while an oversized tracestate is truncated or dropped; a future version is accepted', async () => {
    const huge = Array.from({ length: 40 }, (_, i) => `k${i}=v${i}`).join(',');
    await request(server.url, '/items/continued', { headers: { traceparent: `00-${T}-${S}-01`, tracestate: huge } });
    const future = 'cafe'.repeat(8);
    await request(server.url, '/items/future', { headers: { traceparent: `cc-${future}-${S}-01-what-the-future-holds` } });
    const spans = await receiver.waitForSpans((s) => s.some((x) => x.traceId === T) && s.some((x) => x.traceId === future));
    const continued = spans.find((x) => x.traceId === T);
    assert.equal(continued?.parentSpanId, S);
    assert.equal(continued?.traceState?.split(',').length, 32, 'more than 32 tracestate members: truncated to 32, per W3C');
    const long = 'e'.repeat(32);
    await request(server.url, '/items/long-state', { headers: { traceparent: `00-${long}-${S}-01`, tracestate: `k=${'x'.repeat(600)}` } });
    const longSpan = (await receiver.waitForSpans((s) => s.some((x) => x.traceId === long))).find((x) => x.traceId === long);
    assert.equal(longSpan?.parentSpanId, S, 'the trace is still continued');
    assert.equal(longSpan?.traceState, undefined, 'a tracestate over 512 characters is dropped');
    assert.equal(spans.find((x) => x.traceId === future)?.parentSpanId, S);
  });

  it('an unsampled parent (flags 00) is respected: no span exported, context still propagated unsampled', async () => {
    const id = 'd'.repeat(32);
    const res = await request(server.url, '/items/unsampled', { headers: { traceparent: `00-${id}-${S}-00` } });
    const body = JSON.parse(res.body) as { outgoing: { traceparent?: string } };
    assert.match(body.outgoing.traceparent ?? '', new RegExp(`^00-${id}-[0-9a-f]{16}-00$`));
    await obs.tracing.forceFlush();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!receiver.spans.some((s) => s.traceId === id));
  });
});
