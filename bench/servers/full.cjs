'use strict';
// express-observability, full stack: metrics + SERVER span exported over OTLP (batch) + access log
// through the JSON logger to a file + Elasticsearch shipping + system sampler + alert evaluator.
// Every request is sampled and logged. OTLP_URL / ES_URL point at the orchestrator's stand-ins
// (or at dead ports for the dead-backend runs).
const express = require('express');
const { createObservability } = require('./common.cjs').loadPackage();
const { addRoutes, serve, logFile } = require('./common.cjs');
const { fullOptions } = require('./options.cjs');

const { options, parts } = fullOptions({
  otlpUrl: process.env.OTLP_URL,
  esUrl: process.env.ES_URL,
  logFile: logFile('full'),
});
const obs = createObservability(options);
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
process.stdout.write(`PARTS ${parts.join(', ')}\n`);
serve(wrap ? obs.wrap(app, { endpoints: true }) : app, () => obs.shutdown());
