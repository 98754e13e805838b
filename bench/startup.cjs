'use strict';
// Start-up cost of one fresh process: `node bench/startup.cjs ours|prom-client`. The application's
// own `require('express')` runs first (every app has paid for it before it loads us), then the
// measured step: `ours` requires the package and calls `createObservability()` with defaults and
// no endpoint configured; `prom-client` requires prom-client and registers its default metrics (the
// reference the issue quotes). The step ends with the event-loop turn it ran in, so work the create
// step queued as microtasks (the system sampler's first sample loads its probes there) is counted.
// BENCH_STARTUP_OPTIONS (JSON) replaces the defaults, to attribute. Prints one JSON line: wall ms of the
// require and of the create step (createSyncMs: until createObservability() returned), RSS and V8 heap growth in MB
// over both, modules loaded. `npm run bench` runs it several times and reports medians.
require('express');

const mode = process.argv[2] || 'ours';
const mb = (bytes) => bytes / 1048576;
const before = process.memoryUsage();
const t0 = process.hrtime.bigint();
let create;
if (mode === 'ours') {
  const { createObservability } = require(process.env.BENCH_DIST || 'express-observability');
  create = () => createObservability(process.env.BENCH_STARTUP_OPTIONS ? JSON.parse(process.env.BENCH_STARTUP_OPTIONS) : {});
} else if (mode === 'prom-client') {
  const client = require('prom-client');
  create = () => client.collectDefaultMetrics({ register: new client.Registry() });
} else {
  throw new Error(`usage: node bench/startup.cjs ours|prom-client (got ${mode})`);
}
const t1 = process.hrtime.bigint();
const instance = create();
const t1b = process.hrtime.bigint();
setImmediate(() => {
  const t2 = process.hrtime.bigint();
  const after = process.memoryUsage();
  const modules = Object.keys(require.cache).filter((k) => k.includes('node_modules') || k.includes('/dist/')).length;
  const result = {
    mode,
    requireMs: Number(t1 - t0) / 1e6,
    createMs: Number(t2 - t1) / 1e6,
    createSyncMs: Number(t1b - t1) / 1e6,
    totalMs: Number(t2 - t0) / 1e6,
    rssMb: mb(after.rss - before.rss),
    heapMb: mb(after.heapUsed - before.heapUsed),
    modules,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const stopped = instance && typeof instance.shutdown === 'function' ? instance.shutdown() : undefined;
  Promise.resolve(stopped).finally(() => process.exit(0));
});
