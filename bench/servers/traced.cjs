'use strict';
// express-observability, metrics + tracing: every request sampled, its SERVER span exported over
// OTLP/HTTP (batch) to OTLP_URL (the orchestrator's discarding receiver); logging, system sampler,
// alerts and dashboard off. The variant issue 4's "traced path" ratios are quoted from.
const { createObservability } = require('./common.cjs').loadPackage();
const { serveObserved } = require('./common.cjs');
const { tracedOptions } = require('./options.cjs');

const obs = createObservability(tracedOptions({ otlpUrl: process.env.OTLP_URL }));
serveObserved(obs);
