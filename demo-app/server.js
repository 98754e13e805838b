'use strict';
// `npm run demo`: starts the demo app on HOST:PORT (default 127.0.0.1:3000).
const { createDemo } = require('./app');

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST || '127.0.0.1';
const { app, obs } = createDemo();

const server = app.listen(port, host, () => {
  const addr = server.address();
  const base = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  console.log(`demo-app listening on ${base}`);
  console.log(`  try ${base}/users/42  ${base}/slow  ${base}/error  ${base}/api/orders/7`);
  console.log(`  metrics ${base}/metrics   health ${base}/health`);
});

let closing = false;
function stop(signal) {
  if (closing) return;
  closing = true;
  console.log(`demo-app: ${signal} received, shutting down`);
  server.close(() => {
    obs.shutdown().then(
      () => process.exit(0),
      (err) => {
        console.error('demo-app: shutdown failed', err);
        process.exit(1);
      },
    );
  });
  server.closeIdleConnections?.();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
