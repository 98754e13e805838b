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

// Express 5 gives every request's req and res a map (hidden class) of their own: app.handle()
// re-prototypes them (Object.setPrototypeOf) and V8 does not share the maps of objects that get
// properties after that. Every property read on them then misses V8's inline caches, which stub
// objects of one shape never do. `--shaped` builds real IncomingMessage/ServerResponse objects and
// shapes them as Express does, and subtracts the same requests without our middleware.
const shaped = process.argv.includes('--shaped');
const http = require('node:http');
const appRequest = Object.create(http.IncomingMessage.prototype);
const appResponse = Object.create(http.ServerResponse.prototype);
// A real (unconnected) socket, and the end of each response announced the way Node's HTTP server
// does it: on the `http.server.response.finish` diagnostics channel, then 'close' on the response.
const socketStub = new (require('node:net').Socket)();
const finishChannel = require('node:diagnostics_channel').channel('http.server.response.finish');
function shapedRequest(withMiddleware) {
  const req = new http.IncomingMessage(socketStub);
  req.method = 'GET';
  req.url = '/users/42';
  req.httpVersion = '1.1';
  req.headers = { host: '127.0.0.1:3000', 'user-agent': 'autocannon', connection: 'keep-alive' };
  const res = new http.ServerResponse(req);
  req.res = res;
  Object.setPrototypeOf(req, appRequest);
  Object.setPrototypeOf(res, appResponse);
  res.locals = Object.create(null);
  req.next = () => {};
  req.baseUrl = '';
  req.originalUrl = req.url;
  const route = () => {
    req.params = { id: '42' };
    req.route = routeShape;
    req.app = appShape;
    res.statusCode = 200;
  };
  if (withMiddleware) obs.middleware(req, res, route);
  else route();
  res.finished = true; // what end() sets; with no socket, writableFinished is then true
  res.emit('finish');
  if (finishChannel.hasSubscribers) finishChannel.publish({ request: req, response: res, socket: socketStub, server: null });
  res.emit('close');
}
const routeShape = { path: '/users/:id', stack: [], methods: { get: true } };
const appShape = {};

function oneRequest() {
  if (shaped) return shapedRequest(true);
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
    const withUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;
    if (!shaped) {
      console.log(`${mode}: ${withUs.toFixed(2)} µs/request`);
      continue;
    }
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      shapedRequest(false);
      if ((i & 1023) === 0) await new Promise(setImmediate);
    }
    const without = Number(process.hrtime.bigint() - t1) / 1e3 / n;
    console.log(`${mode} (shaped): ${(withUs - without).toFixed(2)} µs/request (${withUs.toFixed(2)} with, ${without.toFixed(2)} without)`);
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
