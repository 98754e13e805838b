// `npm run bench` — every variant in one invocation, same route, interleaved rounds, medians.
//   node bench/run.mjs            full run (writes bench/results.md)
//   node bench/run.mjs --quick    CI smoke run, < 2 minutes, no memory curve (writes bench/.out/results-quick.md)
//   --rounds=N --duration=S --warmup=S --connections=N --only=name,name   overrides
// Server on one core, autocannon + stand-ins on the other (taskset). Asserts no timing:
// it fails only when a variant cannot start or answers with errors.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIR, cpuTimeOf, pinning, pinSelf, rssOf, runPinnedScript, snapshotDist, startServer, startSinks } from './lib/proc.mjs';
import { environment, fmt, summarise, table } from './lib/report.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, fallback) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : fallback;
};
const quick = flag('quick');
const cfg = {
  rounds: Number(opt('rounds', quick ? 1 : 3)),
  warmup: Number(opt('warmup', quick ? 1 : 2)),
  duration: Number(opt('duration', quick ? 2 : 6)),
  connections: Number(opt('connections', 32)),
  memory: flag('memory') || (!quick && !flag('no-memory')),
  loggerLines: Number(opt('logger-lines', quick ? 20_000 : 200_000)),
  memoryStep: Number(opt('memory-step', 100_000)),
};
const only = opt('only', '').split(',').filter(Boolean);

const TRIVIAL = '/users/42';
const REALISTIC = '/orders/42';

/**
 * Throughput variants (trivial route). `env(sinks)` gives the server its backends. Each server is
 * made the way `app.listen()` makes it (`http.createServer(app)`); with the package's default
 * `tuneServer`, our middleware switches it to request classes built on the app's prototypes from its
 * second request on (what `obs.createServer(app)` does from the start; README, Quick start), so our
 * variants are compared both with bare Express as `app.listen()` runs it and, through `base`, with
 * bare Express on those same classes (BENCH_CLASSES=1): the "vs same server's bare" column, i.e. what
 * our code itself costs. The "tuneServer: false" variants (BENCH_TUNE=0) keep Node's classes: the
 * same server as bare Express.
 */
const CLASSES = { BENCH_CLASSES: '1' };
const UNTUNED = { BENCH_TUNE: '0' };
const TUNED = 'bare-server';
const VARIANTS = [
  { name: 'bare', label: 'bare Express', file: 'bare.cjs' },
  { name: 'metrics', label: 'express-observability, metrics only', file: 'metrics.cjs', base: TUNED },
  { name: 'metrics-wrap', label: 'express-observability, metrics only, obs.wrap(app)', file: 'metrics.cjs', base: TUNED, env: () => ({ BENCH_WRAP: '1' }) },
  { name: 'traced', label: 'express-observability, metrics + tracing (OTLP export, logging off)', file: 'traced.cjs', base: TUNED, env: (s) => ({ OTLP_URL: s.otlp }) },
  { name: 'full', label: 'express-observability, full stack', file: 'full.cjs', ours: true, base: TUNED, env: (s) => ({ OTLP_URL: s.otlp, ES_URL: s.es }) },
  { name: 'full-wrap', label: 'express-observability, full stack, obs.wrap(app)', file: 'full.cjs', ours: true, base: TUNED, env: (s) => ({ OTLP_URL: s.otlp, ES_URL: s.es, BENCH_WRAP: '1' }) },
  { name: 'bare-server', label: 'bare Express on serverOptions(app) (reference: the tuned server without our middleware)', file: 'bare.cjs', base: TUNED, env: () => CLASSES },
  { name: 'metrics-untuned', label: 'express-observability, metrics only, tuneServer: false', file: 'metrics.cjs', env: () => UNTUNED },
  { name: 'traced-untuned', label: 'express-observability, metrics + tracing, tuneServer: false', file: 'traced.cjs', env: (s) => ({ OTLP_URL: s.otlp, ...UNTUNED }) },
  { name: 'full-untuned', label: 'express-observability, full stack, tuneServer: false', file: 'full.cjs', ours: true, env: (s) => ({ OTLP_URL: s.otlp, ES_URL: s.es, ...UNTUNED }) },
  { name: 'prom-bundle', label: 'express-prom-bundle', file: 'prom-bundle.cjs' },
  { name: 'otel', label: 'OpenTelemetry auto-instrumentation (http + express)', file: 'otel.cjs', env: (s) => ({ OTLP_URL: s.otlp }) },
  { name: 'pino', label: 'pino-http → file', file: 'pino.cjs' },
  { name: 'winston', label: 'express-winston → file', file: 'winston.cjs' },
  { name: 'peers', label: 'all peers together (prom-bundle + OTel + pino-http)', file: 'peers.cjs', env: (s) => ({ OTLP_URL: s.otlp }) },
  { name: 'dead-closed', label: 'full stack, OTLP + ES on a closed port', file: 'full.cjs', ours: true, dead: 'full', env: (s) => ({ OTLP_URL: s.closed, ES_URL: s.closed }) },
  { name: 'dead-hanging', label: 'full stack, OTLP + ES hanging', file: 'full.cjs', ours: true, dead: 'full', env: (s) => ({ OTLP_URL: s.hanging, ES_URL: s.hanging }) },
  { name: 'dead-closed-untuned', label: 'full stack, tuneServer: false, OTLP + ES on a closed port', file: 'full.cjs', ours: true, dead: 'full-untuned', env: (s) => ({ OTLP_URL: s.closed, ES_URL: s.closed, ...UNTUNED }) },
  { name: 'dead-hanging-untuned', label: 'full stack, tuneServer: false, OTLP + ES hanging', file: 'full.cjs', ours: true, dead: 'full-untuned', env: (s) => ({ OTLP_URL: s.hanging, ES_URL: s.hanging, ...UNTUNED }) },
];
const REALISTIC_VARIANTS = quick
  ? ['bare', 'metrics', 'full', 'bare-server']
  : ['bare', 'metrics', 'metrics-wrap', 'full', 'full-wrap', 'bare-server', 'metrics-untuned', 'full-untuned', 'peers'];

function logFileFor(name) {
  return path.join(os.tmpdir(), `eo-bench-${process.pid}-${name}.log`);
}

async function load(url, seconds, extra = {}) {
  const r = await autocannon({ url, connections: cfg.connections, duration: seconds, pipelining: 1, ...extra });
  return r;
}

/** Sum of every exposed series whose name says it counts drops, by metric name. */
async function dropsOf(url) {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) return { error: `GET /metrics → ${res.status}` };
  const out = {};
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
    if (m && /drop|_queue_bytes$/i.test(m[1])) out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
  }
  return out;
}

/** One measured run: fresh server, warm-up, measurement, RSS, (ours) drop counters, stop. */
async function measure(pin, sinks, v, route) {
  const env = { BENCH_LOG_FILE: logFileFor(v.name), ...(v.env ? v.env(sinks) : {}) };
  const server = await startServer(pin, v.file, env);
  try {
    if (cfg.warmup > 0) await load(server.url + route, cfg.warmup);
    const cpu0 = cpuTimeOf(server.pid);
    const r = await load(server.url + route, cfg.duration);
    const cpu1 = cpuTimeOf(server.pid);
    const rss = rssOf(server.pid);
    const cpuPerReq = cpu0 !== undefined && cpu1 !== undefined && r.requests.total > 0 ? (cpu1 - cpu0) / r.requests.total : undefined;
    const drops = v.ours ? await dropsOf(server.url) : undefined;
    const errors = r.errors + r.timeouts + r.non2xx;
    if (errors > 0) console.error(`  ! ${v.name}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`);
    return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, rss, cpuPerReq, errors, drops, parts: server.parts };
  } finally {
    await server.stop();
  }
}

async function rounds(pin, sinks, variants, route) {
  const runs = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let round = 0; round < cfg.rounds; round++) {
    // Rotate the order every round so no variant always runs first or last.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const v of order) {
      const r = await measure(pin, sinks, v, route);
      runs[v.name].push(r);
      console.error(`  round ${round + 1}/${cfg.rounds} ${route} ${v.name.padEnd(12)} ${fmt.int(r.rps)} req/s  ${fmt.us(r.cpuPerReq)} µs CPU/req  p99 ${fmt.ms(r.p99)} ms  rss ${fmt.mb(r.rss)} MB`);
    }
  }
  return runs;
}

async function memoryCurve(pin, sinks) {
  const routes = 1000;
  const step = cfg.memoryStep;
  const steps = 10;
  const server = await startServer(pin, 'full.cjs', {
    BENCH_ROUTES: String(routes),
    BENCH_LOG_FILE: logFileFor('memory'),
    OTLP_URL: sinks.otlp,
    ES_URL: sinks.es,
  });
  const requests = Array.from({ length: routes }, (_, i) => ({ method: 'GET', path: `/g${Math.floor(i / 32)}/r${i}/${i * 7}` }));
  const points = [{ requests: 0, rss: rssOf(server.pid), rps: undefined }];
  try {
    for (let i = 1; i <= steps; i++) {
      const r = await autocannon({ url: server.url, connections: cfg.connections, amount: step, requests });
      points.push({ requests: i * step, rss: rssOf(server.pid), rps: r.requests.average, errors: r.errors + r.non2xx });
      if (r.errors + r.non2xx > 0) console.error(`  ! memory step ${i}: ${r.errors} errors, ${r.non2xx} non-2xx`);
      console.error(`  memory ${fmt.int(i * step)} requests: rss ${fmt.mb(points.at(-1).rss)} MB`);
    }
    const text = await (await fetch(`${server.url}/metrics`, { headers: { accept: 'text/plain' } })).text();
    points.series = text.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count{')).length;
  } finally {
    await server.stop();
  }
  return points;
}

/** Capacity against bare Express as app.listen() runs it, and against the variant's own server's bare. */
function capacities(sums, v) {
  const s = sums[v.name];
  const plain = sums.bare?.cpuPerReq;
  const same = sums[v.base ?? 'bare']?.cpuPerReq;
  return [plain && s.cpuPerReq ? fmt.pct(plain / s.cpuPerReq) : 'n/a', same && s.cpuPerReq ? fmt.pct(same / s.cpuPerReq) : 'n/a'];
}

function mainTable(sums, parts) {
  const bare = sums.bare?.rps;
  const rows = VARIANTS.filter((v) => sums[v.name] && !v.dead).map((v) => {
    const s = sums[v.name];
    return [v.label, fmt.int(s.rps), bare ? fmt.pct(s.rps / bare) : 'n/a', fmt.us(s.cpuPerReq), ...capacities(sums, v),
      fmt.ms(s.p50), fmt.ms(s.p99), fmt.mb(s.rss), fmt.pm(s.spread)];
  });
  const note = parts ? `\n\nFull stack parts wired: ${parts}.` : '';
  return table(['Variant', 'req/s', 'vs bare', 'server CPU µs/req', 'capacity vs bare', 'capacity vs same server’s bare', 'p50 ms', 'p99 ms', 'RSS MB', 'round spread'], rows) + note;
}

function deadTable(sums, runs) {
  const healthyOf = (v) => (v.dead ? v.dead : v.name);
  const rows = VARIANTS.filter((v) => sums[v.name] && (v.dead || VARIANTS.some((d) => d.dead === v.name && sums[d.name]))).map((v) => {
    const s = sums[v.name];
    const h = sums[healthyOf(v)];
    const drops = runs[v.name].at(-1)?.drops ?? {};
    const d = Object.entries(drops).map(([k, n]) => `${k}=${n}`).join(', ') || 'none exposed';
    return [v.label, fmt.int(s.rps), h?.rps ? fmt.pct(s.rps / h.rps) : 'n/a', fmt.us(s.cpuPerReq), h?.cpuPerReq && s.cpuPerReq ? fmt.pct(h.cpuPerReq / s.cpuPerReq) : 'n/a', fmt.ms(s.p99), fmt.mb(s.rss), d];
  });
  return table(['Variant', 'req/s', 'vs its healthy full stack', 'server CPU µs/req', 'capacity vs healthy', 'p99 ms', 'RSS MB', 'drop counters (last round)'], rows);
}

function realisticTable(realSums) {
  const bare = realSums.bare?.rps;
  const rows = REALISTIC_VARIANTS.filter((n) => realSums[n]).map((n) => {
    const s = realSums[n];
    const v = VARIANTS.find((x) => x.name === n);
    return [v.label, fmt.int(s.rps), bare ? fmt.pct(s.rps / bare) : 'n/a', fmt.us(s.cpuPerReq), ...capacities(realSums, v), fmt.ms(s.p50), fmt.ms(s.p99), fmt.pm(s.spread)];
  });
  return table(['Variant', 'req/s', 'vs bare', 'server CPU µs/req', 'capacity vs bare', 'capacity vs same server’s bare', 'p50 ms', 'p99 ms', 'round spread'], rows);
}

function loggerTable(result) {
  const base = result.find((r) => r.name === 'winston')?.linesPerSec;
  const rows = result.map((r) => [
    r.label,
    r.linesPerSec === undefined ? `n/a (${r.note})` : fmt.int(r.linesPerSec),
    r.usPerLine === undefined ? 'n/a' : r.usPerLine.toFixed(2),
    base && r.linesPerSec ? fmt.pct(r.linesPerSec / base) : 'n/a',
    r.note && r.linesPerSec !== undefined ? r.note : '',
  ]);
  return table(['Logger', 'lines/s', 'µs/line', 'vs plain winston', 'notes'], rows);
}

function memoryTable(points) {
  return table(['Requests', 'RSS MB', 'req/s in step'], points.map((p) => [fmt.int(p.requests), fmt.mb(p.rss), p.rps === undefined ? '(start)' : fmt.int(p.rps)]));
}

async function main() {
  const pin = pinning();
  pinSelf(pin);
  const dropSnapshot = snapshotDist();
  const env = environment(pin);
  const started = Date.now();
  console.error(`bench: ${quick ? 'quick' : 'full'} run, ${cfg.rounds} round(s) × ${cfg.warmup}+${cfg.duration} s, ${cfg.connections} connections; ${env.pinning}`);
  const sinks = await startSinks();
  const selected = only.length ? VARIANTS.filter((v) => only.includes(v.name)) : VARIANTS;
  try {
    const runs = await rounds(pin, sinks, selected, TRIVIAL);
    const sums = Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, summarise(r)]));
    const realSel = selected.filter((v) => REALISTIC_VARIANTS.includes(v.name));
    const realRuns = realSel.length ? await rounds(pin, sinks, realSel, REALISTIC) : {};
    const realSums = Object.fromEntries(Object.entries(realRuns).map(([k, r]) => [k, summarise(r)]));
    const logger = await runPinnedScript(pin, 'logger.cjs', [String(cfg.loggerLines)], { ES_URL: sinks.es, BENCH_LOG_DIR: os.tmpdir() });
    const memory = cfg.memory ? await memoryCurve(pin, sinks) : undefined;
    const sinkStats = await sinks.stats();
    const parts = Object.values(runs).flat().find((r) => r.parts)?.parts;
    const failures = Object.entries({ ...sums }).filter(([, s]) => s.errors > 0).map(([k]) => k);

    const md = [
      `# Benchmark results${quick ? ' (quick run: 1 short round, not for quoting)' : ''}`,
      '',
      `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)} s.`,
      '',
      `- Machine: ${env.nproc} cores, ${env.cpu}, ${env.memGb} GB RAM, ${env.os}; Node ${env.node}`,
      `- Pinning: ${env.pinning}`,
      `- Conditions: load average ${env.loadBefore} at start (1/5/15 min; other processes share the machine)`,
      `- Method: autocannon, ${cfg.connections} connections, ${cfg.rounds} interleaved round(s) of ${cfg.warmup} s warm-up + ${cfg.duration} s measured, fresh server per run, medians; "round spread" is ±half of (max−min)/median of req/s`,
      '- "server CPU µs/req" is the server process\'s user+system CPU time (/proc/<pid>/stat) over the measured run divided by the requests it served (background work such as exports, sampling and GC included); "capacity vs bare" = bare CPU/req ÷ variant CPU/req, the throughput ratio a saturated server core would show. It does not depend on the load generator keeping up, so it is the steadier figure on a shared machine.',
      `- express-observability ${env.ours}; ${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      '',
      `## Trivial JSON route (\`GET ${TRIVIAL}\`)`,
      '',
      mainTable(sums, parts),
      '',
      '## Dead backends (full stack, same route)',
      '',
      deadTable(sums, runs),
      '',
      `## Realistic route (\`GET ${REALISTIC}\`: 1 ms of async work, ~2 KB JSON body)`,
      '',
      realisticTable(realSums),
      '',
      `## Logger throughput (${fmt.int(cfg.loggerLines)} lines, one process on the server core)`,
      '',
      loggerTable(logger),
      '',
      ...(memory
        ? [`## Memory: full stack, 1,000 distinct routes, RSS every ${fmt.int(cfg.memoryStep)} requests`, '', memoryTable(memory), '', `Distinct \`http_server_request_duration_seconds\` series at the end: ${memory.series}.`, '']
        : ['## Memory curve', '', 'Not run (quick mode; run `npm run bench` for the 1M-request curve).', '']),
      `Stand-ins received: ${sinkStats.otlpRequests} OTLP exports (${fmt.int(sinkStats.otlpBytes)} bytes), ${sinkStats.esRequests} ES _bulk requests (${fmt.int(sinkStats.esActions)} documents), ${sinkStats.hangingConnections} connections to the hanging server.`,
      '',
    ].join('\n');
    const out = quick ? path.join(BENCH_DIR, '.out', 'results-quick.md') : path.join(BENCH_DIR, 'results.md');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, md);
    console.log(md);
    console.error(`bench: wrote ${path.relative(process.cwd(), out)}`);
    if (failures.length) {
      console.error(`bench: variants answered with errors: ${failures.join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await sinks.stop();
    dropSnapshot();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
