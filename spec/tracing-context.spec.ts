import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, createContextKey, propagation, trace } from '@opentelemetry/api';
import { createObservability, type Observability } from '../lib';
import { EXPRESS_MAJORS } from './support/express-shapes';
import { listen, request, type Listening } from './support/http';
import { OTLP_KIND, startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';

// The request's context is the package's own Context implementation (lib/tracing/context.ts, chosen
// for what the garbage collector does with it). These tests hold it to the API's contract as an
// application and its instrumentations use it: values derived from it, deleted from it, the span it
// carries, what is propagated downstream and exported.

const PARENT_ID = '00f067aa0ba902b7';
const APP_KEY = createContextKey('app key');

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver.close();
});

for (const [major, express] of EXPRESS_MAJORS) {
  describe(`the request's OpenTelemetry context (Express ${major})`, () => {
    // One trace per Express major: the receiver is shared.
    const TRACE_ID = `4bf92f3577b34da6a3ce929d0e0e47${String(major).padStart(2, '0')}`;
    let obs: Observability;
    let srv: Listening;
    before(async () => {
      obs = createObservability({
        serviceName: 'ctx-svc',
        metrics: { defaultMetrics: false },
        system: { enabled: false },
        logging: { stdout: false },
        tracing: { endpoint: receiver.tracesUrl, scheduledDelayMillis: 20, incomingBaggage: true },
      });
      const app = express();
      app.use(obs.middleware);
      app.get('/ctx/:case', (req, res, next) => {
        const active = context.active();
        const server = trace.getSpan(active);
        const derived = active.setValue(APP_KEY, `value-${req.params.case}`);
        const withoutSpan = trace.deleteSpan(derived);
        const own = propagation.setBaggage(derived, propagation.createBaggage({ 'app.flag': { value: 'blue' } }));
        const observed = {
          serverSpanId: server?.spanContext().spanId,
          activeHasAppKey: active.getValue(APP_KEY) !== undefined,
          derivedValue: derived.getValue(APP_KEY),
          derivedSpanId: trace.getSpan(derived)?.spanContext().spanId,
          withoutSpan: trace.getSpan(withoutSpan) === undefined,
          withoutSpanKeepsValue: withoutSpan.getValue(APP_KEY),
          withoutSpanHeaders: context.with(withoutSpan, () => obs.tracing.inject<Record<string, string>>({})),
          incomingBaggage: propagation.getBaggage(active)?.getEntry('tenant')?.value ?? null,
          ownBaggage: context.with(own, () => obs.tracing.inject<Record<string, string>>({})).baggage,
        };
        context
          .with(derived, () =>
            obs.tracing.withSpan('child', async (child) => {
              await new Promise((r) => setTimeout(r, 5));
              return {
                childSpanId: child.spanContext().spanId,
                valueInChild: context.active().getValue(APP_KEY),
                activeIsChild: trace.getActiveSpan() === child,
                headers: obs.tracing.inject<Record<string, string>>({}),
              };
            }),
          )
          .then((child) => {
            res.json({ ...observed, ...child, afterChildIsServer: trace.getActiveSpan() === server });
          }, next);
      });
      srv = await listen(app);
    });
    after(async () => {
      await srv.close();
      await obs.shutdown();
    });

    it('derives, deletes and propagates values like the API’s own context; the child span’s parent is the SERVER span', async () => {
      const r = await request(srv.url, '/ctx/one', {
        headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, baggage: 'tenant=acme' },
      });
      assert.equal(r.status, 200, r.body);
      const got = JSON.parse(r.body) as Record<string, unknown> & { headers: Record<string, string>; withoutSpanHeaders: Record<string, string> };
      assert.match(String(got.serverSpanId), /^[0-9a-f]{16}$/);
      assert.equal(got.activeHasAppKey, false, 'setValue must not change the context it derives from');
      assert.equal(got.derivedValue, 'value-one');
      assert.equal(got.derivedSpanId, got.serverSpanId, 'a derived context keeps the span');
      assert.equal(got.withoutSpan, true);
      assert.equal(got.withoutSpanKeepsValue, 'value-one', 'deleting the span keeps the other values');
      assert.equal(got.withoutSpanHeaders.traceparent, undefined, 'without a span nothing is propagated');
      assert.equal(got.incomingBaggage, 'acme');
      assert.equal(got.ownBaggage, 'app.flag=blue', 'setBaggage replaces the baggage of the context it derives from');
      assert.equal(got.valueInChild, 'value-one');
      assert.equal(got.activeIsChild, true);
      assert.equal(got.afterChildIsServer, true);
      assert.equal(got.headers.traceparent, `00-${TRACE_ID}-${String(got.childSpanId)}-01`);

      const spans = await receiver.waitForSpans((s) => s.filter((x) => x.traceId === TRACE_ID).length >= 2);
      const server = spans.find((s) => s.traceId === TRACE_ID && s.kind === OTLP_KIND.SERVER);
      const child = spans.find((s) => s.traceId === TRACE_ID && s.name === 'child');
      assert.ok(server && child, 'both spans exported');
      assert.equal(server.spanId, got.serverSpanId);
      assert.equal(server.parentSpanId, PARENT_ID, 'the SERVER span continues the incoming traceparent');
      assert.equal(child.parentSpanId, server.spanId);
      assert.equal(server.name, 'GET /ctx/:case');
    });
  });
}

describe('the package\'s Context against the API\'s ROOT_CONTEXT', () => {
  it('derives, deletes, branches and looks up like the API\'s, however deep the chain', async () => {
    const { ROOT_CONTEXT } = await import('@opentelemetry/api');
    const { REQUEST_ROOT_CONTEXT } = await import('../lib/tracing/context');
    const keys = Array.from({ length: 6 }, (_, i) => createContextKey(`k${i}`));
    // A fixed pseudo-random walk: set, delete, and branch back to an earlier context, 400 steps deep.
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pairs: Array<[ReturnType<typeof ROOT_CONTEXT.setValue>, ReturnType<typeof ROOT_CONTEXT.setValue>]> = [[ROOT_CONTEXT, REQUEST_ROOT_CONTEXT]];
    let [api, ours] = pairs[0] as (typeof pairs)[number];
    for (let step = 0; step < 400; step++) {
      const key = keys[rand(keys.length)] as symbol;
      const op = rand(10);
      if (op < 6) {
        const value = op === 0 ? undefined : `v${step}`;
        [api, ours] = [api.setValue(key, value), ours.setValue(key, value)];
      } else if (op < 9) {
        [api, ours] = [api.deleteValue(key), ours.deleteValue(key)];
      } else {
        [api, ours] = pairs[rand(pairs.length)] as (typeof pairs)[number];
      }
      pairs.push([api, ours]);
      for (const k of keys) assert.equal(ours.getValue(k), api.getValue(k), `step ${step}`);
    }
    // Earlier contexts are unchanged by what was derived from them.
    for (const [a, o] of pairs) for (const k of keys) assert.equal(o.getValue(k), a.getValue(k));
  });
});
