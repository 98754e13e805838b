'use strict';
// `npm run demo`: starts the demo app on HOST:PORT (default 127.0.0.1:3000).
const { createDemo } = require('./app');

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST || '127.0.0.1';
const { app, obs } = createDemo();

// A plain app.listen(): the package observes the server; it does not change it.
const server = app.listen(port, host, () => {
  const addr = server.address();
  const base = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  console.log(`demo-app listening on ${base}`);
  console.log(`  try ${base}/users/42  ${base}/slow  ${base}/error  ${base}/api/orders/7`);
  console.log(`  metrics ${base}/metrics   health ${base}/health`);
  console.log(`  dashboard ${base}/dashboard`);
});

// Graceful shutdown: readiness 503 at once, SHUTDOWN_GRACE_MS (default 1000) for load balancers to
// notice, then stop accepting, let in-flight requests finish, flush spans and logs, exit 0.
const graceful = obs.attachShutdown(server, {
  gracePeriodMs: Number(process.env.SHUTDOWN_GRACE_MS ?? 1000),
  beforeShutdown: () => console.log('demo-app: drained, flushing'),
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => console.log(`demo-app: ${signal} received, shutting down`));
}
graceful.done.then((r) => console.log(`demo-app: shutdown ${r.forced ? 'forced' : 'complete'} (exit ${r.code})`));
