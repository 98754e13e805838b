'use strict';
// Logger throughput (lines/s), one process on the server core, lines written in batches of 1,000
// with an event-loop turn between batches; the clock stops once every line reached its destination.
//   plain winston JSON → file   |   our logger (correlation + redaction) → file   |   + Elasticsearch transport
//   | + Elasticsearch transport with the on-disk spool (logging.spool, default sync interval)
// Usage: node bench/logger.cjs <lines>; ES_URL = the stand-in; prints one JSON array (usPerLine = 1e6 / linesPerSec).
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
  fs.rmSync(file, { force: true });
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
  return { name: 'winston', label: 'plain winston JSON → file', linesPerSec: LINES / secs, usPerLine: (secs * 1e6) / LINES, bytes: fs.statSync(file).size };
}

const OURS = {
  ours: 'our logger (correlation + redaction) → file',
  'ours-es': 'our logger + Elasticsearch transport (stand-in)',
  'ours-es-spool': 'our logger + Elasticsearch transport + on-disk spool (sync 200 ms)',
};

async function ours(name) {
  const { knownTopKeys } = require('./servers/options.cjs');
  const label = OURS[name];
  const withEs = name !== 'ours';
  if (!knownTopKeys().has('logging')) return { name, label, note: 'lib/logging not wired into createObservability yet' };
  const { createObservability } = require('./servers/common.cjs').loadPackage();
  const file = path.join(dir, `${name}.log`);
  fs.rmSync(file, { force: true });
  const obs = createObservability({
    serviceName: 'bench',
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
    system: { enabled: false },
    logging: {
      enabled: true,
      file,
      stdout: false,
      ...(withEs ? { elasticsearch: { url: process.env.ES_URL } } : {}),
      ...(name === 'ours-es-spool' ? { spool: { dir: path.join(dir, 'spool') } } : {}),
    },
  });
  const cpu0 = process.cpuUsage();
  const start = await drive((i) => obs.logger.info('order shipped', fields(i)));
  const report = await obs.shutdown();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (report.undelivered.length > 0 || report.spooled.length > 0) throw new Error(`${name}: not everything was delivered: ${JSON.stringify(report)}`);
  return { name, label, linesPerSec: LINES / secs, usPerLine: (secs * 1e6) / LINES, cpuUsPerLine: (cpu.user + cpu.system) / LINES, bytes: fs.statSync(file).size };
}

/**
 * The request thread's share: lines handed to the Elasticsearch transport while nothing is sent (huge
 * batch and interval), so the clock sees serialisation, queueing and, with the spool, the append and the
 * interval writes (timers fire between the batches of 1,000), not the backend's answers.
 */
async function enqueue(name) {
  const spool = name === 'enqueue-spool';
  const label = spool ? 'log() into the Elasticsearch queue + spool (sync 200 ms), nothing sent' : 'log() into the Elasticsearch queue, nothing sent';
  const { createObservability } = require('./servers/common.cjs').loadPackage();
  const obs = createObservability({
    serviceName: 'bench',
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
    system: { enabled: false },
    logging: {
      stdout: false,
      accessLog: false,
      elasticsearch: { url: process.env.ES_URL, batchSize: 1_000_000, batchBytes: 512 * 1024 * 1024, flushIntervalMs: 600_000, maxQueueBytes: 512 * 1024 * 1024 },
      ...(spool ? { spool: { dir: path.join(dir, 'spool-enqueue') } } : {}),
    },
  });
  const cpu0 = process.cpuUsage();
  const start = await drive((i) => obs.logger.info('order shipped', fields(i)));
  // The last interval write, so every appended line was written once.
  await new Promise((r) => setTimeout(r, 250));
  const secs = Number(process.hrtime.bigint() - start) / 1e9 - 0.25;
  const cpu = process.cpuUsage(cpu0);
  await obs.shutdown();
  // CPU time (user + system, every thread of the process) counts only while this process runs, so
  // other processes on the machine disturb it far less than the wall clock.
  return { name, label, linesPerSec: LINES / secs, usPerLine: (secs * 1e6) / LINES, cpuUsPerLine: (cpu.user + cpu.system) / LINES };
}

/** Run only the variants named in BENCH_LOGGER (comma-separated), or all. */
const only = (process.env.BENCH_LOGGER || '').split(',').filter(Boolean);
const wanted = (name) => only.length === 0 || only.includes(name);

(async () => {
  // BENCH_REPEAT=n runs the selected variants n times, interleaved, and reports each one's median run
  // (with the fastest and slowest µs/line): on a shared machine single runs vary by ±50%.
  const variants = [
    ...(wanted('winston') ? [plainWinston] : []),
    ...Object.keys(OURS).filter(wanted).map((n) => () => ours(n)),
    ...['enqueue', 'enqueue-spool'].filter(wanted).map((n) => () => enqueue(n)),
  ];
  const runs = variants.map(() => []);
  for (let r = 0; r < Math.max(1, Number(process.env.BENCH_REPEAT || 1)); r++) {
    for (const [i, v] of variants.entries()) runs[i].push(await v());
  }
  const results = runs.map((rs) => {
    const sorted = [...rs].sort((a, b) => a.usPerLine - b.usPerLine);
    const mid = sorted[Math.floor((sorted.length - 1) / 2)];
    const cpu = rs.map((x) => x.cpuUsPerLine).filter((x) => x !== undefined).sort((a, b) => a - b);
    const cpuMedian = cpu.length ? { cpuUsPerLine: cpu[Math.floor((cpu.length - 1) / 2)] } : {};
    return rs.length === 1 ? mid : { ...mid, ...cpuMedian, runs: rs.length, usPerLineMin: sorted[0].usPerLine, usPerLineMax: sorted[sorted.length - 1].usPerLine };
  });
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(results)}\n`);
})().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
