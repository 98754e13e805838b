'use strict';
// express-observability with metrics only: HTTP histogram + process metrics; tracing and logging off.
const express = require('express');
const { createObservability } = require('./common.cjs').loadPackage();
const { addRoutes, serve } = require('./common.cjs');
const { metricsOnlyOptions } = require('./options.cjs');

const obs = createObservability(metricsOnlyOptions());
const app = express();
app.disable('x-powered-by');
app.use(obs.middleware);
app.use(obs.router);
addRoutes(app);
serve(app, () => obs.shutdown());
