'use strict';
// In-process cost of our own per-request code: `node bench/inprocess.cjs metrics|traced|full`.
// Drives obs.middleware with stub requests/responses (EventEmitters: no sockets, no Express, no
// network), so it measures our frames alone, steadily enough to compare two builds (±3 % here;
// the socket benchmark moves ±10–20 % between rounds on this machine kind). Prints µs per request
// for several rounds, then bytes allocated per request (run with --expose-gc --max-semi-space-size=64
// for that part: a scavenge during the measured stretch would hide allocations).
// Not a test and asserts nothing. The full stack ships to a closed port and logs to /dev/null.
const { EventEmitter } = require('node:events');
const { createObservability } = require('./servers/common.cjs').loadPackage();
const { metricsOnlyOptions, tracedOptions, fullOptions } = require('./servers/options.cjs');

const mode = process.argv[2] || 'metrics';
const options = {
  metrics: () => metricsOnlyOptions(),
  traced: () => tracedOptions({ otlpUrl: undefined }),
  full: () => fullOptions({ otlpUrl: undefined, esUrl: 'http://127.0.0.1:9', logFile: '/dev/null' }).options,
}[mode];
if (!options) throw new Error(`usage: node bench/inprocess.cjs metrics|traced|full (got ${mode})`);
const obs = createObservability(options());
const route = { path: '/users/:id', stack: [], methods: { get: true } };

class StubResponse extends EventEmitter {
  constructor(req) {
    super();
    this.req = req;
    this.statusCode = 200;
    this.headersSent = true;
    this.writableFinished = true;
  }
  getHeader(name) {
    return name === 'content-length' ? '27' : undefined;
  }
}

function oneRequest() {
  const req = new EventEmitter();
  req.method = 'GET';
  req.url = '/users/42';
  req.originalUrl = '/users/42';
  req.httpVersion = '1.1';
  req.headers = { host: '127.0.0.1:3000', 'user-agent': 'autocannon', connection: 'keep-alive' };
  req.socket = { remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: 3000 };
  const res = new StubResponse(req);
  obs.middleware(req, res, () => {
    req.route = route;
    req.baseUrl = '';
    req.app = {};
  });
  res.emit('finish');
  res.emit('close');
}

async function main() {
  const n = 100_000;
  for (let round = 0; round < 6; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      oneRequest();
      if ((i & 1023) === 0) await new Promise(setImmediate);
    }
    console.log(`${mode}: ${(Number(process.hrtime.bigint() - t0) / 1e3 / n).toFixed(2)} µs/request`);
  }
  if (typeof globalThis.gc === 'function') {
    for (let round = 0; round < 3; round++) {
      await new Promise(setImmediate);
      globalThis.gc();
      const h0 = process.memoryUsage().heapUsed;
      for (let i = 0; i < 2000; i++) oneRequest();
      const h1 = process.memoryUsage().heapUsed;
      console.log(`${mode}: ${Math.round((h1 - h0) / 2000)} bytes allocated/request (stubs included)`);
    }
  }
  await obs.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
