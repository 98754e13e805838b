// `npm run bench` — every variant in one invocation, same route, interleaved rounds, medians.
//   node bench/run.mjs            full run (writes bench/results.md)
//   node bench/run.mjs --quick    CI smoke run, < 2 minutes, no memory curve (writes bench/.out/results-quick.md)
//   --rounds=N --duration=S --warmup=S --connections=N --only=name,name   overrides
//   --node=24 (or BENCH_NODE=24)   run everything on that Node line (scripts/node-line.sh installs it)
// Server on one core, autocannon + stand-ins on the other (taskset). Asserts no timing:
// it fails only when a variant cannot start or answers with errors.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIR, cpuTimeOf, pinning, pinSelf, rssOf, runPinnedScript, snapshotDist, startServer, startSinks } from './lib/proc.mjs';
import { environment, fmt, median, summarise, table } from './lib/report.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, fallback) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : fallback;
};
const nodeLine = opt('node', process.env.BENCH_NODE ?? '');
if (nodeLine && process.versions.node.split('.')[0] !== nodeLine) {
  // Re-run this script on the requested Node line; every server it starts then runs on it too.
  const { spawnSync } = await import('node:child_process');
  const found = spawnSync('bash', [path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'scripts', 'node-line.sh'), nodeLine], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (found.status !== 0) throw new Error(`bench: no Node ${nodeLine} binary`);
  const r = spawnSync(found.stdout.trim(), [new URL(import.meta.url).pathname, ...argv.filter((a) => !a.startsWith('--node'))], { stdio: 'inherit', env: { ...process.env, BENCH_NODE: '' } });
  process.exit(r.status ?? 1);
}
const quick = flag('quick');
const cfg = {
  rounds: Number(opt('rounds', quick ? 1 : 3)),
  warmup: Number(opt('warmup', quick ? 1 : 8)),
  duration: Number(opt('duration', quick ? 2 : 6)),
  connections: Number(opt('connections', 32)),
  memory: flag('memory') || (!quick && !flag('no-memory')),
  loggerLines: Number(opt('logger-lines', quick ? 20_000 : 200_000)),
  startups: Number(opt('startups', quick ? 3 : 9)),
  memoryStep: Number(opt('memory-step', 100_000)),
};
const only = opt('only', '').split(',').filter(Boolean);

const TRIVIAL = '/users/42';
const REALISTIC = '/orders/42';

/**
 * Throughput variants (trivial route). `env(sinks)` gives the server its backends. Every server is
 * made the way `app.listen()` makes it (`http.createServer(app)`, Node's own request classes), and
 * each of our variants and each peer is compared with bare Express on that same server in the same
 * run (`base`): "µs added" is the variant's server CPU per request minus bare Express's, round by
 * round. The "on serverOptions(app)" rows repeat ours and bare on servers built with the package's
 * opt-in request classes (BENCH_CLASSES=1; docs/performance.md, "Server classes"), each against
 * bare Express on those classes: no figure compares two different servers.
 */
const CLASSES = { BENCH_CLASSES: '1' };
const BARE_CLASSES = 'bare-classes';
const VARIANTS = [
  { name: 'bare', label: 'bare Express', file: 'bare.cjs', group: 'node' },
  { name: 'metrics', label: 'express-observability, metrics only', file: 'metrics.cjs', base: 'bare', group: 'node' },
  { name: 'traced', label: 'express-observability, metrics + SERVER span exported over OTLP', file: 'traced.cjs', base: 'bare', group: 'node', env: (s) => ({ OTLP_URL: s.otlp }) },
  { name: 'full', label: 'express-observability, full stack', file: 'full.cjs', ours: true, base: 'bare', group: 'node', env: (s) => ({ OTLP_URL: s.otlp, ES_URL: s.es }) },
  { name: 'full-wrap', label: 'express-observability, full stack, obs.wrap(app)', file: 'full.cjs', ours: true, base: 'bare', group: 'node', env: (s) => ({ OTLP_URL: s.otlp, ES_URL: s.es, BENCH_WRAP: '1' }) },
  { name: 'prom-bundle', label: 'express-prom-bundle', file: 'prom-bundle.cjs', base: 'bare', group: 'node' },
  { name: 'otel', label: 'OpenTelemetry http + express auto-instrumentation (OTLP)', file: 'otel.cjs', base: 'bare', group: 'node', env: (s) => ({ OTLP_URL: s.otlp }) },
  { name: 'pino', label: 'pino-http → file', file: 'pino.cjs', base: 'bare', group: 'node' },
  { name: 'winston', label: 'express-winston → file', file: 'winston.cjs', base: 'bare', group: 'node' },
  { name: 'peers', label: 'all peers together (prom-bundle + OTel + pino-http)', file: 'peers.cjs', base: 'bare', group: 'node', env: (s) => ({ OTLP_URL: s.otlp }) },
  { name: BARE_CLASSES, label: 'bare Express', file: 'bare.cjs', group: 'classes', env: () => CLASSES },
  { name: 'metrics-classes', label: 'express-observability, metrics only', file: 'metrics.cjs', base: BARE_CLASSES, group: 'classes', env: () => CLASSES },
  { name: 'traced-classes', label: 'express-observability, metrics + SERVER span exported over OTLP', file: 'traced.cjs', base: BARE_CLASSES, group: 'classes', env: (s) => ({ OTLP_URL: s.otlp, ...CLASSES }) },
  { name: 'full-classes', label: 'express-observability, full stack', file: 'full.cjs', ours: true, base: BARE_CLASSES, group: 'classes', env: (s) => ({ OTLP_URL: s.otlp, ES_URL: s.es, ...CLASSES }) },
  { name: 'dead-closed', label: 'full stack, OTLP + ES on a closed port', file: 'full.cjs', ours: true, dead: 'full', base: 'bare', env: (s) => ({ OTLP_URL: s.closed, ES_URL: s.closed }) },
  { name: 'dead-hanging', label: 'full stack, OTLP + ES hanging', file: 'full.cjs', ours: true, dead: 'full', base: 'bare', env: (s) => ({ OTLP_URL: s.hanging, ES_URL: s.hanging }) },
];
const QUICK_VARIANTS = ['bare', 'metrics', 'traced', 'full', 'peers', BARE_CLASSES, 'metrics-classes', 'dead-closed'];
const REALISTIC_VARIANTS = quick
  ? ['bare', 'metrics', 'full']
  : ['bare', 'metrics', 'traced', 'full', 'peers', BARE_CLASSES, 'full-classes'];

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
async function measure(pin, sinks, v, route, nodeArgs = []) {
  const env = { BENCH_LOG_FILE: logFileFor(v.name), ...(v.env ? v.env(sinks) : {}) };
  const server = await startServer(pin, v.file, env, nodeArgs);
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
    rmSync(env.BENCH_LOG_FILE, { force: true });
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

/**
 * RSS under sustained load. V8 grows a server's young generation each time the bytes that survived
 * scavenges since its last growth reach its size, so under load every server ends at the maximum
 * (128 MB here), sooner the more survives each scavenge: the full stack within ~60 s, bare Express
 * only after minutes. RSS after the main table's 14 s therefore compares servers at different points of
 * that growth. Here every server starts at the maximum (`--min-semi-space-size=64`, the same flag for each),
 * the state sustained load takes each of them to (docs/performance.md, "Memory under sustained load").
 */
const SUSTAINED_ARGS = ['--min-semi-space-size=64'];
const SUSTAINED_VARIANTS = ['bare', 'metrics', 'traced', 'full'];
async function sustainedMemory(pin, sinks) {
  const out = [];
  for (const name of SUSTAINED_VARIANTS) {
    const v = VARIANTS.find((x) => x.name === name);
    const r = await measure(pin, sinks, v, TRIVIAL, SUSTAINED_ARGS);
    out.push({ v, rss: r.rss, rps: r.rps });
    console.error(`  sustained ${name.padEnd(8)} rss ${fmt.mb(r.rss)} MB`);
  }
  return out;
}

function sustainedTable(rows) {
  const bare = rows.find((r) => r.v.name === 'bare');
  return table(
    ['Variant', 'RSS MB', 'over bare Express, MB', 'req/s'],
    rows.map((r) => [r.v.label, fmt.mb(r.rss), r === bare ? '(baseline)' : fmt.mb(r.rss - bare.rss), fmt.int(r.rps)]),
  );
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
    rmSync(logFileFor('memory'), { force: true });
  }
  return points;
}

/**
 * What a variant adds over bare Express on the same server: the median of the per-round differences
 * of server CPU µs per request (each round runs both on fresh servers), their spread (min–max), and
 * the capacity ratio (bare CPU/req ÷ variant CPU/req) and req/s ratio against that same bare.
 */
function added(runs, sums, v) {
  if (!v.base || !runs[v.base]) return { us: undefined, range: '–', capacity: 'n/a', rps: 'n/a' };
  const diffs = runs[v.name].map((r, i) => (r.cpuPerReq !== undefined && runs[v.base][i]?.cpuPerReq !== undefined ? r.cpuPerReq - runs[v.base][i].cpuPerReq : undefined)).filter((x) => x !== undefined);
  const base = sums[v.base];
  const s = sums[v.name];
  return {
    us: median(diffs),
    range: diffs.length > 1 ? `${fmt.us(Math.min(...diffs))}…${fmt.us(Math.max(...diffs))}` : '–',
    capacity: base?.cpuPerReq && s.cpuPerReq ? fmt.pct(base.cpuPerReq / s.cpuPerReq) : 'n/a',
    rps: base?.rps && s.rps ? fmt.pct(s.rps / base.rps) : 'n/a',
  };
}

const SERVER_GROUPS = [
  ['node', 'Node’s own request classes (`app.listen()`)'],
  ['classes', 'request classes of `serverOptions(app)` (opt-in `obs.createServer(app)`)'],
];

function throughputTable(runs, sums, names) {
  const rows = VARIANTS.filter((v) => names.includes(v.name) && sums[v.name] && !v.dead).map((v) => {
    const s = sums[v.name];
    const a = added(runs, sums, v);
    const server = SERVER_GROUPS.find(([g]) => g === v.group)?.[1] ?? '';
    return [v.label, server, fmt.us(s.cpuPerReq), v.base ? fmt.us(a.us) : '(baseline)', a.range, a.capacity, fmt.int(s.rps), a.rps, fmt.ms(s.p50), fmt.ms(s.p99), fmt.mb(s.rss), fmt.pm(s.spread)];
  });
  return table(['Variant', 'server', 'server CPU µs/req', 'µs added over bare (same server)', 'added, per-round range', 'capacity vs same bare', 'req/s', 'req/s vs same bare', 'p50 ms', 'p99 ms', 'RSS MB', 'req/s round spread'], rows);
}

function mainTable(runs, sums, parts) {
  const note = parts ? `\n\nFull stack parts wired: ${parts}.` : '';
  return throughputTable(runs, sums, VARIANTS.map((v) => v.name)) + note;
}

function deadTable(sums, runs) {
  const healthyOf = (v) => (v.dead ? v.dead : v.name);
  const rows = VARIANTS.filter((v) => sums[v.name] && (v.dead || VARIANTS.some((d) => d.dead === v.name && sums[d.name]))).map((v) => {
    const s = sums[v.name];
    const h = sums[healthyOf(v)];
    const drops = runs[v.name].at(-1)?.drops ?? {};
    const d = Object.entries(drops).map(([k, n]) => `${k}=${n}`).join(', ') || 'none exposed';
    return [v.label, fmt.int(s.rps), h?.rps ? fmt.pct(s.rps / h.rps) : 'n/a', fmt.us(s.cpuPerReq), fmt.us(added(runs, sums, v).us), h?.cpuPerReq && s.cpuPerReq ? fmt.pct(h.cpuPerReq / s.cpuPerReq) : 'n/a', fmt.ms(s.p99), fmt.mb(s.rss), d];
  });
  return table(['Variant', 'req/s', 'vs its healthy full stack', 'server CPU µs/req', 'µs added over bare', 'capacity vs healthy', 'p99 ms', 'RSS MB', 'drop counters (last round)'], rows);
}

function realisticTable(realRuns, realSums) {
  return throughputTable(realRuns, realSums, REALISTIC_VARIANTS);
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

/** Medians of `cfg.startups` fresh processes of bench/startup.cjs per mode (pinned to the server core). */
async function startup(pin) {
  const out = {};
  for (const mode of ['ours', 'prom-client']) {
    const runs = [];
    for (let i = 0; i < cfg.startups; i++) runs.push(await runPinnedScript(pin, 'startup.cjs', [mode]));
    out[mode] = Object.fromEntries(['requireMs', 'createSyncMs', 'createMs', 'totalMs', 'rssMb', 'heapMb', 'modules'].map((k) => [k, median(runs.map((r) => r[k]))]));
    out[mode].range = [Math.min(...runs.map((r) => r.totalMs)), Math.max(...runs.map((r) => r.totalMs))];
  }
  return out;
}

function startupTable(s) {
  const label = { ours: 'express-observability: `require` + `createObservability()` (defaults, no endpoint)', 'prom-client': 'prom-client: `require` + default metrics on a new Registry (reference)' };
  return table(
    ['Step (after the app\'s own `require(\'express\')`)', 'require ms', 'create ms (until it returns)', 'create ms (to the end of that event-loop turn)', 'total ms', 'total ms, range', 'RSS MB added', 'V8 heap MB added', 'modules loaded'],
    Object.entries(s).map(([k, r]) => [label[k], r.requireMs.toFixed(1), r.createSyncMs.toFixed(1), r.createMs.toFixed(1), r.totalMs.toFixed(1), `${r.range[0].toFixed(0)}…${r.range[1].toFixed(0)}`, r.rssMb.toFixed(1), r.heapMb.toFixed(1), fmt.int(r.modules)]),
  );
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
  const calStart = await runPinnedScript(pin, 'calibrate.cjs');
  const sinks = await startSinks();
  const wanted = only.length ? only : quick ? QUICK_VARIANTS : VARIANTS.map((v) => v.name);
  const selected = VARIANTS.filter((v) => wanted.includes(v.name) || VARIANTS.some((w) => wanted.includes(w.name) && (w.base === v.name || w.dead === v.name)));
  try {
    const runs = await rounds(pin, sinks, selected, TRIVIAL);
    const sums = Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, summarise(r)]));
    const realSel = selected.filter((v) => REALISTIC_VARIANTS.includes(v.name));
    const realRuns = realSel.length ? await rounds(pin, sinks, realSel, REALISTIC) : {};
    const realSums = Object.fromEntries(Object.entries(realRuns).map(([k, r]) => [k, summarise(r)]));
    const logger = await runPinnedScript(pin, 'logger.cjs', [String(cfg.loggerLines)], { ES_URL: sinks.es, BENCH_LOG_DIR: os.tmpdir() });
    const starts = await startup(pin);
    const memory = cfg.memory ? await memoryCurve(pin, sinks) : undefined;
    const sustained = cfg.memory ? await sustainedMemory(pin, sinks) : undefined;
    const sinkStats = await sinks.stats();
    const calEnd = await runPinnedScript(pin, 'calibrate.cjs');
    const parts = Object.values(runs).flat().find((r) => r.parts)?.parts;
    const failures = Object.entries({ ...sums }).filter(([, s]) => s.errors > 0).map(([k]) => k);

    const md = [
      `# Benchmark results${quick ? ' (quick run: 1 short round, not for quoting)' : ''}`,
      '',
      `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)} s.`,
      '',
      `- Machine: ${env.nproc} cores, ${env.cpu}, ${env.memGb} GB RAM, ${env.os}; Node ${env.node}`,
      `- Pinning: ${env.pinning}`,
      `- Conditions: load average ${env.loadBefore} at start (1/5/15 min; other processes share the machine); server core speed: SHA-256 of 32 MB in ${calStart.sha256Ms.toFixed(1)} ms at start, ${calEnd.sha256Ms.toFixed(1)} ms at the end (\`bench/calibrate.cjs\`, to compare runs)`,
      `- Method: autocannon, ${cfg.connections} connections, ${cfg.rounds} interleaved round(s) of ${cfg.warmup} s warm-up + ${cfg.duration} s measured, fresh server per run, medians; "round spread" is ±half of (max−min)/median of req/s`,
      '- "server CPU µs/req" is the server process\'s user+system CPU time (/proc/<pid>/stat) over the measured run divided by the requests it served (background work such as exports, sampling and GC included). "µs added over bare (same server)" is the median over rounds of (variant − bare Express) CPU µs/req, both measured in the same round on the same kind of server (Node\'s classes, or the opt-in `serverOptions(app)` classes, never one against the other); "capacity vs same bare" = bare CPU/req ÷ variant CPU/req, the throughput ratio a saturated server core would show. CPU per request does not depend on the load generator keeping up, so it is the steadier figure on a shared machine.',
      `- express-observability ${env.ours}; ${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      '',
      `## Trivial JSON route (\`GET ${TRIVIAL}\`)`,
      '',
      mainTable(runs, sums, parts),
      '',
      '## Dead backends (full stack, same route)',
      '',
      deadTable(sums, runs),
      '',
      `## Realistic route (\`GET ${REALISTIC}\`: 1 ms of async work, ~2 KB JSON body)`,
      '',
      realisticTable(realRuns, realSums),
      '',
      `## Logger throughput (${fmt.int(cfg.loggerLines)} lines, one process on the server core)`,
      '',
      loggerTable(logger),
      '',
      `## Start-up (${cfg.startups} fresh processes each, medians, on the server core)`,
      '',
      startupTable(starts),
      '',
      ...(sustained
        ? [
            `## Memory under sustained load (\`GET ${TRIVIAL}\`, one run each, ${cfg.warmup} s + ${cfg.duration} s, young generation at its maximum: \`${SUSTAINED_ARGS.join(' ')}\` for every server)`,
            '',
            sustainedTable(sustained),
            '',
          ]
        : []),
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
