'use strict';
// Logger throughput (lines/s), one process on the server core, lines written in batches of 1,000
// with an event-loop turn between batches; the clock stops once every line reached its destination.
//   plain winston JSON → file   |   our logger (correlation + redaction) → file   |   + Elasticsearch transport
// Usage: node bench/logger.cjs <lines>; ES_URL = the stand-in; prints one JSON array.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setImmediate: tick } = require('node:timers/promises');
const winston = require('winston');

const LINES = Number(process.argv[2] || 100_000);
const dir = fs.mkdtempSync(path.join(process.env.BENCH_LOG_DIR || os.tmpdir(), 'eo-logger-'));
const fields = (i) => ({ orderId: i, userId: 42, items: 3, authorization: 'Bearer secret-token', path: '/orders/42?token=abc' });

async function drive(log) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < LINES; i += 1000) {
    for (let j = i; j < i + 1000 && j < LINES; j++) log(j);
    await tick();
  }
  return start;
}

async function plainWinston() {
  const file = path.join(dir, 'winston.log');
  const logger = winston.createLogger({
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.File({ filename: file })],
  });
  const start = await drive((i) => logger.info('order shipped', fields(i)));
  await new Promise((resolve) => {
    logger.on('finish', resolve);
    logger.end();
  });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { name: 'winston', label: 'plain winston JSON → file', linesPerSec: LINES / secs, bytes: fs.statSync(file).size };
}

async function ours(withEs) {
  const { knownTopKeys } = require('./servers/options.cjs');
  const label = withEs ? 'our logger + Elasticsearch transport (stand-in)' : 'our logger (correlation + redaction) → file';
  const name = withEs ? 'ours-es' : 'ours';
  if (!knownTopKeys().has('logging')) return { name, label, note: 'lib/logging not wired into createObservability yet' };
  const { createObservability } = require('./servers/common.cjs').loadPackage();
  const file = path.join(dir, `${name}.log`);
  const obs = createObservability({
    serviceName: 'bench',
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
    system: { enabled: false },
    logging: { enabled: true, file, stdout: false, ...(withEs ? { elasticsearch: { url: process.env.ES_URL } } : {}) },
  });
  const start = await drive((i) => obs.logger.info('order shipped', fields(i)));
  await obs.shutdown();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, label, linesPerSec: LINES / secs, bytes: fs.statSync(file).size };
}

(async () => {
  const results = [];
  results.push(await plainWinston());
  results.push(await ours(false));
  results.push(await ours(true));
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(results)}\n`);
})().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
