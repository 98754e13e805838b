'use strict';
// Scratch server for A/B experiments while profiling (not part of the suite): EXP flags in env.
// Flags: nodefault noop noop2 sym wm locals onclose burn (BURN_US µs of CPU per request) spin (SPIN_US µs of
// CPU per request, a calibrated iteration count) alloc (garbage
// per request) sdkspan sdkspanend (a plain SDK span) tr (tracing on) ourspan ourspanafter (a span of the
// instance's tracer before/after its middleware) nomw norouter.
const express = require('express');
const { createObservability } = require('./common.cjs').loadPackage();
const { addRoutes, serve } = require('./common.cjs');
const { metricsOnlyOptions } = require('./options.cjs');

const flags = new Set((process.env.EXP || '').split(',').filter(Boolean));
const opts = metricsOnlyOptions();
if (flags.has('nodefault')) opts.metrics = { ...(opts.metrics || {}), defaultMetrics: false };
if (flags.has('tr')) opts.tracing = { enabled: true, sampler: 'always_on', ringBufferSize: 0 };
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
if (flags.has('burn')) {
  // ~BURN_US µs of CPU per request, no allocation: does a slower server alone change what survives?
  const us = Number(process.env.BURN_US || 30);
  app.use((req, res, next) => { const t = performance.now() + us / 1000; while (performance.now() < t); next(); });
}
if (flags.has('spin')) {
  // ~SPIN_US µs of CPU per request as a fixed number of iterations (calibrated at start, so time the process
  // loses to preemption does not shorten it, unlike burn): what a known amount of pure work costs the server.
  const spin = (n) => { let x = 0; for (let i = 0; i < n; i++) x = (x * 31 + i) | 0; return x; };
  let n = 1e7;
  spin(n);
  const t0 = process.hrtime.bigint();
  spin(n);
  const perIteration = Number(process.hrtime.bigint() - t0) / n; // ns
  n = Math.round((Number(process.env.SPIN_US || 20) * 1000) / perIteration);
  app.use((req, res, next) => { req[SYM] = spin(n); next(); });
}
if (flags.has('alloc')) {
  // ~1.5 KB of short-lived garbage per request: does allocation alone change what survives?
  app.use((req, res, next) => { const a = []; for (let i = 0; i < 24; i++) a.push({ i, s: 'x' + i, t: [i, i] }); req[SYM] = a.length; next(); });
}
if (flags.has('sdkspan') || flags.has('sdkspanend')) {
  const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
  const tracer = new BasicTracerProvider().getTracer('exp');
  const end = flags.has('sdkspanend');
  app.use((req, res, next) => { const s = tracer.startSpan('GET'); if (end) s.end(); next(); });
}
if (flags.has('ourspan')) {
  const tracer = obs.tracing.tracer;
  app.use((req, res, next) => { tracer.startSpan('GET', { kind: 1, attributes: { 'http.request.method': 'GET', 'url.path': req.url } }).end(); next(); });
}
if (!flags.has('nomw')) app.use(obs.middleware);
if (flags.has('ourspanafter')) {
  const tracer = obs.tracing.tracer;
  app.use((req, res, next) => { tracer.startSpan('GET', { kind: 1, attributes: { 'http.request.method': 'GET', 'url.path': req.url } }).end(); next(); });
}
if (!flags.has('norouter')) app.use(obs.router);
addRoutes(app);
serve(app, () => obs.shutdown());
