'use strict';
// Shared by every benchmark server: the routes under test, listening on 127.0.0.1, and a clean stop.
// Each server file adds its own middleware, then calls serve(). The orchestrator (bench/run.mjs)
// reads the "LISTENING <port>" line from stdout and stops the server with SIGTERM.
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');

/** A 2 KB JSON-serialisable body for the realistic route (serialised per request, like an app would). */
function orderBody(id) {
  const items = [];
  for (let i = 0; i < 16; i++) items.push({ sku: `SKU-${id}-${i}`, name: `item number ${i}`, qty: i % 3 + 1, price: 9.99 + i });
  return { id, status: 'shipped', customer: { id: 77, name: 'Ada Lovelace', email: 'ada@example.org' }, items };
}

/**
 * Register the benchmark routes on an Express app:
 * - GET /users/:id   trivial JSON route (the headline figure)
 * - GET /orders/:id  realistic route: 1 ms of async work, ~2 KB JSON body
 * - GET /g<k>/r<n>/:id  BENCH_ROUTES distinct route templates (memory curve)
 */
function addRoutes(app) {
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'user' });
  });
  app.get('/orders/:id', async (req, res) => {
    await sleep(1);
    res.json(orderBody(req.params.id));
  });
  // Distinct templates for the memory curve, /g<k>/r<i>/:id, in routers of 32 routes each so a
  // request walks ~32 layers rather than hundreds.
  const extra = Number(process.env.BENCH_ROUTES || 0);
  for (let g = 0; g * 32 < extra; g++) {
    const group = require('express').Router();
    for (let i = g * 32; i < Math.min(extra, (g + 1) * 32); i++) {
      group.get(`/r${i}/:id`, (req, res) => {
        res.json({ route: i, id: req.params.id });
      });
    }
    app.use(`/g${g}`, group);
  }
}

/**
 * Listen on 127.0.0.1:0 (or BENCH_PORT), announce the port, and stop on SIGTERM:
 * `stop()` (flush spans/logs) runs first, then the server closes and the process exits.
 */
function serve(app, stop = async () => {}, expressApp = app) {
  // BENCH_CLASSES=1: requests and responses built on the app's prototypes (the package's
  // serverOptions(app), what obs.createServer(app) does), so Express's re-prototyping is a no-op.
  const options = process.env.BENCH_CLASSES === '1' ? loadPackage().serverOptions(expressApp) : {};
  const server = http.createServer(options, app);
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.BENCH_PORT || 0), '127.0.0.1', () => {
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close();
    const guard = setTimeout(() => process.exit(0), 5000);
    guard.unref();
    Promise.resolve()
      .then(stop)
      .catch((err) => process.stderr.write(`stop failed: ${err && err.stack}\n`))
      .finally(() => process.exit(0));
  });
}

/**
 * Serve the benchmark routes with an express-observability instance mounted the way a user would:
 * `app.use(obs.middleware)` + `app.use(obs.router)` (with BENCH_ONE_LAYER=1 the middleware alone, answering
 * the endpoints itself: the middlewareEndpoints option), or with BENCH_WRAP=1 the same stack around the
 * server's listener (`obs.wrap(app, { endpoints: true })`, no Express layers). `errorHandler` adds
 * `obs.errorHandler` after the routes. Stops with `obs.shutdown()`.
 */
function serveObserved(obs, { errorHandler = true } = {}) {
  const express = require('express');
  const app = express();
  app.disable('x-powered-by');
  const wrap = process.env.BENCH_WRAP === '1';
  const oneLayer = process.env.BENCH_ONE_LAYER === '1';
  if (oneLayer && !obs.options.middlewareEndpoints) throw new Error('BENCH_ONE_LAYER=1 needs the middlewareEndpoints option');
  if (!wrap) {
    app.use(obs.middleware);
    if (!oneLayer) app.use(obs.router);
  }
  addRoutes(app);
  if (errorHandler) app.use(obs.errorHandler);
  serve(wrap ? obs.wrap(app, { endpoints: true }) : app, () => obs.shutdown(), app);
}

/** Where file-writing loggers write (the orchestrator sets BENCH_LOG_FILE per server and removes it). */
function logFile(name) {
  if (process.env.BENCH_LOG_FILE) return process.env.BENCH_LOG_FILE;
  // A file of our own (ab.mjs, profile.mjs, gc.mjs runs): removed when this server exits.
  const file = require('node:path').join(require('node:os').tmpdir(), `bench-${name}-${process.pid}.log`);
  process.once('exit', () => require('node:fs').rmSync(file, { force: true }));
  return file;
}

/**
 * The package under test: the snapshot of dist/ that bench/run.mjs took at start (BENCH_DIST), so a
 * rebuild running elsewhere cannot swap the code mid-run; else the package itself (dist/).
 */
function loadPackage() {
  return require(process.env.BENCH_DIST || 'express-observability');
}

module.exports = { addRoutes, serve, serveObserved, logFile, orderBody, loadPackage };
