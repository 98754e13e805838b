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
const SYM = Symbol('exp');
if (flags.has('sym')) app.use((req, res, next) => { req[SYM] = { start: performance.now() }; next(); });
const WM = new WeakMap();
if (flags.has('wm')) app.use((req, res, next) => { WM.set(req, { start: performance.now() }); next(); });
if (flags.has('locals')) app.use((req, res, next) => { res.locals[SYM] = { start: performance.now() }; next(); });
if (flags.has('onclose')) {
  const onClose = function () { const st = this.req && this.req[SYM]; if (st) st.done = true; };
  app.use((req, res, next) => { res.on('close', onClose); next(); });
}
if (!flags.has('nomw')) app.use(obs.middleware);
if (!flags.has('norouter')) app.use(obs.router);
addRoutes(app);
serve(app, () => obs.shutdown());
