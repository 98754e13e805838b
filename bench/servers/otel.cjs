'use strict';
// OpenTelemetry auto-instrumentation alone.
const { stopTracing } = require('./otel-setup.cjs');
const express = require('express');
const { addRoutes, serve } = require('./common.cjs');

const app = express();
app.disable('x-powered-by');
addRoutes(app);
serve(app, stopTracing);
