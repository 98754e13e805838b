import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { context, propagation } from '@opentelemetry/api';
import { createObservability, type Observability } from '../lib';
import { EXPRESS_MAJORS } from './support/express-shapes';
import { listen, request, type Listening } from './support/http';

const T = '0af7651916cd43dd8448eb211c80319c';
const INCOMING = { traceparent: `00-${T}-b7ad6b7169203331-01`, baggage: 'role=admin,tenant=other-customer' };

/** What a downstream service receives: the headers of every request, in order. */
let downstream: Listening;
const received: IncomingHttpHeaders[] = [];

/** One call downstream with `obs.tracing.inject()`'s headers, from inside the request. */
function callDownstream(headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(downstream.url);
    const req = http.request({ host: u.hostname, port: u.port, path: '/downstream', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  downstream = await listen((req, res) => {
    received.push(req.headers);
    res.end('ok');
  });
});
after(async () => {
  await downstream.close();
});

for (const [major, express] of EXPRESS_MAJORS) {
  describe(`tracing.incomingBaggage: what inject() forwards downstream (Express ${major})`, () => {
    const running: Array<{ obs: Observability; srv: Listening }> = [];
    async function start(incomingBaggage?: boolean): Promise<string> {
      const obs = createObservability({
        metrics: { defaultMetrics: false },
        system: { enabled: false },
        logging: { stdout: false },
        tracing: incomingBaggage === undefined ? {} : { incomingBaggage },
      });
      const app = express();
      app.use(obs.middleware);
      app.get('/call', (_req, res, next) => {
        callDownstream(obs.tracing.inject<Record<string, string>>({})).then(() => res.end('called'), next);
      });
      app.get('/call-with-own-baggage', (_req, res, next) => {
        const own = propagation.setBaggage(context.active(), propagation.createBaggage({ 'app.flag': { value: 'blue' } }));
        context.with(own, () => callDownstream(obs.tracing.inject<Record<string, string>>({}))).then(() => res.end('called'), next);
      });
      const srv = await listen(app);
      running.push({ obs, srv });
      return srv.url;
    }
    after(async () => {
      for (const r of running) {
        await r.srv.close();
        await r.obs.shutdown();
      }
    });

    it('drops a client’s baggage by default, and still continues its trace', async () => {
      const url = await start();
      received.length = 0;
      assert.equal((await request(url, '/call', { headers: INCOMING })).status, 200);
      assert.equal(received.length, 1);
      assert.match(String(received[0]?.traceparent), new RegExp(`^00-${T}-[0-9a-f]{16}-01$`));
      assert.equal(received[0]?.baggage, undefined);
    });

    it('forwards it with incomingBaggage: true', async () => {
      const url = await start(true);
      received.length = 0;
      assert.equal((await request(url, '/call', { headers: INCOMING })).status, 200);
      assert.equal(received[0]?.baggage, 'role=admin,tenant=other-customer');
      assert.match(String(received[0]?.traceparent), new RegExp(`^00-${T}-`));
    });

    it('always forwards the baggage the application sets itself', async () => {
      const url = await start();
      received.length = 0;
      assert.equal((await request(url, '/call-with-own-baggage', { headers: INCOMING })).status, 200);
      assert.equal(received[0]?.baggage, 'app.flag=blue');
      assert.throws(() => createObservability({ tracing: { incomingBaggage: 'no' } } as never), { name: 'TypeError', message: /"tracing.incomingBaggage"/ });
    });
  });
}
