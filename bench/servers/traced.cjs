'use strict';
// express-observability, metrics + tracing: every request sampled, its SERVER span exported over
// OTLP/HTTP (batch) to OTLP_URL (the orchestrator's discarding receiver); logging, system sampler,
// alerts and dashboard off. The variant issue 4's "traced path" ratios are quoted from.
const express = require('express');
const { createObservability } = require('./common.cjs').loadPackage();
const { addRoutes, serve } = require('./common.cjs');
const { tracedOptions } = require('./options.cjs');

const obs = createObservability(tracedOptions({ otlpUrl: process.env.OTLP_URL }));
const app = express();
app.disable('x-powered-by');
// BENCH_WRAP=1: the same stack around the server's listener (obs.wrap), not as Express layers.
const wrap = process.env.BENCH_WRAP === '1';
if (!wrap) {
  app.use(obs.middleware);
  app.use(obs.router);
}
addRoutes(app);
app.use(obs.errorHandler);
serve(wrap ? obs.wrap(app, { endpoints: true }) : app, () => obs.shutdown());
