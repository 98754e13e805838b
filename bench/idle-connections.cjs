'use strict';
// Heap an open, idle keep-alive connection keeps after one request (not part of `npm run bench`):
//   node --expose-gc bench/idle-connections.cjs [bare|metrics|traced|full]     N=1000 connections
// One process: the server (the benchmark's options for the variant, no exporter, no shipping) and a
// client agent that opens N keep-alive connections, one request on each. Heap used with the
// connections open and idle, minus heap used once they are closed, per connection. Node's own share
// (socket, parser, timers) is the `bare` figure; the rest is what the package's request context
// leaves behind (Node keeps the async context that armed each socket's idle timer).
const http = require('node:http');
const express = require('express');
const { createObservability } = require('./servers/common.cjs').loadPackage();
const { addRoutes } = require('./servers/common.cjs');
const { metricsOnlyOptions, tracedOptions, fullOptions } = require('./servers/options.cjs');

const variant = process.argv[2] || 'traced';
const n = Number(process.env.N || 1000);
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

async function settle() {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    globalThis.gc();
  }
  return process.memoryUsage().heapUsed;
}

(async () => {
  const options = {
    bare: undefined,
    metrics: () => metricsOnlyOptions(),
    traced: () => tracedOptions({ otlpUrl: undefined }),
    full: () => fullOptions({ otlpUrl: undefined, esUrl: undefined, logFile: '/dev/null' }).options,
  }[variant];
  if (options === null) throw new Error(`unknown variant ${variant}`);
  const app = express();
  const obs = options ? createObservability(options()) : undefined;
  if (obs) app.use(obs.middleware);
  addRoutes(app);
  const server = http.createServer(app);
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: n });
  const get = (i, via) =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: `/users/${i}`, agent: via }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  // A warm-up round on its own connections, closed before measuring.
  await Promise.all(Array.from({ length: 50 }, (_, i) => get(i, agent)));
  agent.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const before = await settle();
  const open = new http.Agent({ keepAlive: true, maxSockets: n });
  await Promise.all(Array.from({ length: n }, (_, i) => get(i, open)));
  await new Promise((resolve) => setTimeout(resolve, 1200)); // past Node's Date-header timer
  const idle = await settle();
  open.destroy();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const closed = await settle();
  console.log(`${variant}: ${((idle - closed) / n).toFixed(0)} bytes of heap per idle keep-alive connection (client and server sides; ${n} connections; before ${(before / 1048576).toFixed(1)} MB)`);
  server.close();
  await obs?.shutdown();
  process.exit(0);
})();
