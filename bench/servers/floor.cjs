'use strict';
// What the platform charges any instrumentation before it does anything (not part of `npm run bench`):
// bare Express plus one of, by EXP flag,
//   layer       an empty `app.use((req, res, next) => next())` layer (layer2: a second one)
//   route       the same empty function as a catch-all route layer, `app.all('/{*splat}', fn)` (Express 5 syntax)
//   wrap        an empty function around the app's listener (what `obs.wrap(app)` adds at minimum)
//   als-enable  an AsyncLocalStorage made active once at start-up (its async hooks then run for everything)
//   als-run     a per-request `als.run(store, next)` in an Express layer (what a context manager's `with()` does)
//   burn        a layer that busy-waits BURN_US microseconds (default 30) of CPU per request: what any extra
//               work costs the server in this benchmark, beyond the work itself
// Compare with: node bench/ab.mjs bare::BENCH_CLASSES=1 floor:layer:BENCH_CLASSES=1 floor:als-run:BENCH_CLASSES=1 ...
const express = require('express');
const { AsyncLocalStorage } = require('node:async_hooks');
const { addRoutes, serve } = require('./common.cjs');

const flags = new Set((process.env.EXP || '').split(',').filter(Boolean));
const app = express();
app.disable('x-powered-by');
const als = new AsyncLocalStorage();
if (flags.has('layer')) app.use((req, res, next) => next());
if (flags.has('layer2')) app.use((req, res, next) => next());
if (flags.has('route')) app.all('/{*splat}', (req, res, next) => next());
if (flags.has('als-enable')) als.enterWith({ started: Date.now() });
if (flags.has('als-run')) app.use((req, res, next) => als.run({ req }, next));
if (flags.has('burn')) {
  const ms = Number(process.env.BURN_US || 30) / 1000;
  app.use((req, res, next) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
    next();
  });
}
addRoutes(app);
if (flags.has('wrap')) serve((req, res) => app(req, res), undefined, app);
else serve(app);
