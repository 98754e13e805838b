'use strict';
// "All peers together": what a user assembles today for metrics + traces + access log.
const { stopTracing } = require('./otel-setup.cjs');
const express = require('express');
const promBundle = require('express-prom-bundle');
const pino = require('pino');
const pinoHttp = require('pino-http');
const { addRoutes, serve, logFile } = require('./common.cjs');

const dest = pino.destination({ dest: logFile('peers'), sync: false, minLength: 4096 });
const app = express();
app.disable('x-powered-by');
app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true, promClient: { collectDefaultMetrics: {} } }));
app.use(pinoHttp({ logger: pino(dest) }));
addRoutes(app);
serve(app, async () => {
  dest.flushSync();
  await stopTracing();
});
