'use strict';
// Heap held per span waiting in the batch processor's export queue (not part of `npm run bench`):
//   node --expose-gc bench/span-heap.cjs [N]
// A metrics + tracing instance whose exporter points at a closed port and whose batch processor never
// exports on its own (huge delay and batch), an Express route, then N (default 4000) requests over
// keep-alive: the heap after a full collection, minus the heap before, divided by N. What each span
// holds is what survives every scavenge while it waits (docs/performance.md, "Garbage, memory and
// start-up"). PROTOCOL=http/json measures the SDK's batch processor (the http/json export) instead of the
// package's encoded queue (http/protobuf, the default). SNAPSHOT=<file> also writes a heap snapshot at the
// end, to break the figure down.
const http = require('node:http');
const v8 = require('node:v8');
const express = require('express');
const { createObservability } = require('./servers/common.cjs').loadPackage();

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const n = Number(process.argv[2] || 4000);
const obs = createObservability({
  serviceName: 'span-heap',
  logging: { enabled: false },
  system: { enabled: false },
  alerts: { enabled: false },
  dashboard: { enabled: false },
  tracing: {
    enabled: true,
    sampler: 'always_on',
    endpoint: 'http://127.0.0.1:9/v1/traces',
    protocol: process.env.PROTOCOL || 'http/protobuf',
    scheduledDelayMillis: 3_600_000,
    maxQueueSize: 2 * n + 1000,
    maxExportBatchSize: 2 * n + 1000,
  },
});
const app = express();
app.use(obs.middleware);
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));

const server = app.listen(0, '127.0.0.1', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const { port } = server.address();
  const get = () =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/users/42', agent, headers: { 'user-agent': 'autocannon/8.0.0' } }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  for (let i = 0; i < 300; i++) await get();
  globalThis.gc();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) await get();
  globalThis.gc();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  const protocol = process.env.PROTOCOL || 'http/protobuf';
  process.stdout.write(`${n} spans queued (${protocol}): ${((after - before) / n).toFixed(0)} bytes of heap per span (Node ${process.versions.node})\n`);
  if (process.env.SNAPSHOT) v8.writeHeapSnapshot(process.env.SNAPSHOT);
  agent.destroy();
  server.close();
  process.exit(0);
});
