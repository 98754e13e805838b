'use strict';
// The demo application: uses express-observability exactly as the README tells users to.
const express = require('express');
const { createObservability } = require('express-observability');
const { demoAlerts } = require('./alerts');

/**
 * Logging options from the environment: ship to Elasticsearch when ELASTICSEARCH_URL is set
 * (credentials in the URL become basic auth; ELASTICSEARCH_API_KEY sends an API key), to Loki
 * when LOKI_URL is set; LOG_LEVEL sets the level; SPOOL_DIR (and SPOOL_MAX_BYTES) turn on the shippers'
 * on-disk spool. With none set, logs go to stdout only.
 * Logs over OTLP need nothing here: the package itself honours OTEL_LOGS_EXPORTER=otlp and
 * OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT (docs/otlp.md), as it honours the traces' OTEL_* variables.
 * @param {NodeJS.ProcessEnv} env
 */
function demoLogging(env) {
  const logging = {};
  if (env.LOG_LEVEL) logging.level = env.LOG_LEVEL;
  if (env.ELASTICSEARCH_URL) {
    const u = new URL(env.ELASTICSEARCH_URL);
    const es = {};
    if (u.username) {
      es.username = decodeURIComponent(u.username);
      es.password = decodeURIComponent(u.password);
      u.username = '';
      u.password = '';
    }
    if (env.ELASTICSEARCH_API_KEY) es.apiKey = env.ELASTICSEARCH_API_KEY;
    logging.elasticsearch = { url: u.toString(), ...es };
  }
  if (env.LOKI_URL) logging.loki = { url: env.LOKI_URL };
  // An on-disk spool (docs/spool.md): shipped lines survive a crash and are replayed at the next start.
  if (env.SPOOL_DIR) logging.spool = { dir: env.SPOOL_DIR, ...(env.SPOOL_MAX_BYTES ? { maxBytes: Number(env.SPOOL_MAX_BYTES) } : {}) };
  return logging;
}

/**
 * Build the demo app and its observability instance (no listening here, so tests can reuse it).
 * @param {object} [overrides] extra createObservability options (tests use it)
 */
function createDemo(overrides = {}) {
  const obs = createObservability({
    // The demo contract: OTEL_SERVICE_NAME overrides the demo's own name.
    serviceName: process.env.OTEL_SERVICE_NAME || 'demo-shop',
    serviceVersion: '1.0.0',
    alerts: demoAlerts(process.env),
    logging: demoLogging(process.env),
    ...overrides,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(obs.middleware);
  app.use(obs.router);

  app.get('/', (_req, res) => {
    res.json({
      service: obs.options.serviceName,
      try: ['/users/42', '/slow', '/error', '/api/orders/7', '/shops/3/items/9', '/metrics', '/health', '/alerts', '/alerts/rules'],
    });
  });

  app.get('/users/:id', (req, res) => {
    req.log.info('user looked up', { userId: req.params.id });
    res.json({ id: req.params.id, name: `user ${req.params.id}` });
  });

  app.get('/slow', async (_req, res) => {
    const ms = 50 + Math.floor(Math.random() * 450);
    await new Promise((resolve) => setTimeout(resolve, ms));
    obs.logger.info('slow work done', { sleptMs: ms });
    res.json({ sleptMs: ms });
  });

  app.get('/error', () => {
    throw new Error('demo failure: /error always fails');
  });

  // Tracing API: a child span "load order", inside it a CLIENT span around an outgoing HTTP call to
  // this same app carrying traceparent, so GET /users/:id shows up as a grandchild in the same trace.
  const orders = express.Router();
  orders.get('/:orderId', async (req, res, next) => {
    try {
      const { orderId } = req.params;
      const customer = await obs.tracing.withSpan('load order', async () => {
        obs.tracing.setAttribute('order.id', orderId);
        const { localAddress, localPort } = req.socket;
        const host = localAddress.includes(':') ? `[${localAddress}]` : localAddress;
        const url = `http://${host}:${localPort}/users/${Number(orderId) % 100 || 1}`;
        return obs.tracing.withSpan(
          'GET',
          async () => {
            const r = await fetch(url, { headers: obs.tracing.inject({}) });
            obs.tracing.setAttribute('http.response.status_code', r.status);
            return r.json();
          },
          { kind: 'client', attributes: { 'http.request.method': 'GET', 'url.full': url, 'server.address': localAddress, 'server.port': localPort } },
        );
      });
      obs.tracing.addEvent('order loaded', { 'order.id': orderId });
      res.json({ orderId, status: 'shipped', customer });
    } catch (err) {
      next(err);
    }
  });
  app.use('/api/orders', orders);

  // A parameterised mount: the route label stays /shops/:shopId/items/:itemId.
  const items = express.Router({ mergeParams: true });
  items.get('/:itemId', (req, res) => {
    res.json({ shopId: req.params.shopId, itemId: req.params.itemId });
  });
  app.use('/shops/:shopId/items', items);

  // A fake dependency with a health check of its own: POST /demo/dependency/down makes /health and
  // /health/ready answer 503, POST /demo/dependency/up brings them back (after the 1 s health cache).
  let dependencyUp = true;
  obs.health.addCheck(
    'fake-db:connection',
    () => (dependencyUp ? { status: 'pass', observedValue: 'up' } : { status: 'fail', observedValue: 'down', output: 'fake dependency is down' }),
    { critical: true, componentType: 'datastore', timeout: 500 },
  );
  app.post('/demo/dependency/:state', (req, res) => {
    if (req.params.state !== 'up' && req.params.state !== 'down') {
      res.status(404).json({ error: 'use /demo/dependency/up or /demo/dependency/down' });
      return;
    }
    dependencyUp = req.params.state === 'up';
    req.log.warn('fake dependency switched', { dependency: req.params.state });
    res.json({ dependency: req.params.state });
  });

  app.use(obs.errorHandler);
  // Express recognises error handlers by their four parameters.
  app.use((err, req, res, _next) => {
    req.log.error('request failed', { err });
    res.status(500).json({ error: 'internal error' });
  });

  return { app, obs };
}

module.exports = { createDemo, demoLogging };
