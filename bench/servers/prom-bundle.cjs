'use strict';
// express-prom-bundle with method/path/status labels (its documented setup for per-route metrics).
const express = require('express');
const promBundle = require('express-prom-bundle');
const { addRoutes, serve } = require('./common.cjs');

const app = express();
app.disable('x-powered-by');
app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true, promClient: { collectDefaultMetrics: {} } }));
addRoutes(app);
serve(app);
