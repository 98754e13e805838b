'use strict';
// express-observability, full stack: metrics + SERVER span exported over OTLP (batch) + access log
// through the JSON logger to a file + Elasticsearch shipping + system sampler + alert evaluator.
// Every request is sampled and logged. OTLP_URL / ES_URL point at the orchestrator's stand-ins
// (or at dead ports for the dead-backend runs).
const { createObservability } = require('./common.cjs').loadPackage();
const { serveObserved, logFile } = require('./common.cjs');
const { fullOptions } = require('./options.cjs');

const { options, parts } = fullOptions({
  otlpUrl: process.env.OTLP_URL,
  esUrl: process.env.ES_URL,
  logFile: logFile('full'),
});
const obs = createObservability(options);
process.stdout.write(`PARTS ${parts.join(', ')}\n`);
serveObserved(obs);
