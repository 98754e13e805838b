'use strict';
// Scratch server for A/B experiments while profiling (not part of the suite): EXP flags in env.
const express = require('express');
const { createObservability } = require('./common.cjs').loadPackage();
const { addRoutes, serve } = require('./common.cjs');
const { metricsOnlyOptions } = require('./options.cjs');

const flags = new Set((process.env.EXP || '').split(',').filter(Boolean));
const opts = metricsOnlyOptions();
if (flags.has('nodefault')) opts.metrics = { ...(opts.metrics || {}), defaultMetrics: false };
const obs = createObservability(opts);
const app = express();
app.disable('x-powered-by');
if (flags.has('noop')) app.use((req, res, next) => next());
if (flags.has('noop2')) app.use((req, res, next) => { res.once('close', () => {}); next(); });
if (!flags.has('nomw')) app.use(obs.middleware);
if (!flags.has('norouter')) app.use(obs.router);
addRoutes(app);
serve(app, () => obs.shutdown());
