'use strict';
// express-observability with metrics only: HTTP histogram + process metrics; tracing and logging off.
const { createObservability } = require('./common.cjs').loadPackage();
const { serveObserved } = require('./common.cjs');
const { metricsOnlyOptions } = require('./options.cjs');

const obs = createObservability(metricsOnlyOptions());
serveObserved(obs, { errorHandler: false });
