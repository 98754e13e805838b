// A/B of server CPU per request between benchmark servers, interleaved rounds (not part of `npm run bench`):
//   node bench/ab.mjs bare bare::BENCH_CLASSES=1 metrics traced::OTLP_URL=
// Each argument is <file in bench/servers without .cjs>[:<EXP value>[:<VAR=value,...>]] (VAR NODE_ARGS: flags for node). Every round
// starts each variant fresh on the server core, warms it WARM s (default 1; `npm run bench` warms 8 s, long
// enough for the JIT to settle), drives it DUR s (default 3) with 32
// connections, and reads the server's CPU time from /proc. Prints per-round CPU µs/request, median, min,
// the ratio of medians to the first variant, req/s, and the medians of user and system CPU µs/request.
// ROUNDS (default 5), DUR, ROUTE (default /users/42), RATE (same offered req/s for every variant).
import autocannon from 'autocannon';
import { cpuTimesOf, pinning, pinSelf, startServer, startSinks, variantOf } from './lib/proc.mjs';

const pin = pinning();
pinSelf(pin);
const sinks = await startSinks();
const rounds = Number(process.env.ROUNDS || 5);
const dur = Number(process.env.DUR || 3);
const warm = Number(process.env.WARM || 1);
const route = process.env.ROUTE || '/users/42';
// RATE=n: every variant gets the same offered load, n requests/s in all (autocannon overallRate), not saturation.
const rate = process.env.RATE ? { overallRate: Number(process.env.RATE) } : {};
const variants = process.argv.slice(2);
const results = Object.fromEntries(variants.map((v) => [v, []]));
for (let round = 0; round < rounds; round++) {
  for (const v of variants) {
    const { file, env, nodeArgs } = variantOf(v, sinks);
    const s = await startServer(pin, file, env, nodeArgs);
    await autocannon({ url: s.url + route, connections: 32, duration: warm, ...rate });
    const c0 = cpuTimesOf(s.pid);
    const r = await autocannon({ url: s.url + route, connections: 32, duration: dur, ...rate });
    const c1 = cpuTimesOf(s.pid);
    const user = (c1.user - c0.user) / r.requests.total;
    const system = (c1.system - c0.system) / r.requests.total;
    results[v].push([user + system, r.requests.average, user, system]);
    await s.stop();
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const base = median(results[variants[0]].map((x) => x[0]));
for (const v of variants) {
  const cpu = results[v].map((x) => x[0]);
  console.log(
    v.padEnd(44),
    'cpu/req',
    cpu.map((x) => x.toFixed(0)).join(' ').padEnd(26),
    'med',
    median(cpu).toFixed(0),
    'min',
    Math.min(...cpu).toFixed(0),
    ' ratio',
    `${((base / median(cpu)) * 100).toFixed(1)}%`,
    ' rps',
    median(results[v].map((x) => x[1])).toFixed(0),
    ' user',
    median(results[v].map((x) => x[2])).toFixed(1),
    'sys',
    median(results[v].map((x) => x[3])).toFixed(1),
  );
}
await sinks.stop();
