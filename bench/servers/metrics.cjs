'use strict';
// express-observability with metrics only: HTTP histogram + process metrics; tracing and logging off.
const express = require('express');
const { createObservability } = require('./common.cjs').loadPackage();
const { addRoutes, serve } = require('./common.cjs');
const { metricsOnlyOptions } = require('./options.cjs');

const obs = createObservability(metricsOnlyOptions());
const app = express();
app.disable('x-powered-by');
// BENCH_WRAP=1: the same stack around the server's listener (obs.wrap), not as Express layers.
const wrap = process.env.BENCH_WRAP === '1';
if (!wrap) {
  app.use(obs.middleware);
  app.use(obs.router);
}
addRoutes(app);
serve(wrap ? obs.wrap(app, { endpoints: true }) : app, () => obs.shutdown());
