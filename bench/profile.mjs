// Profile one benchmark server under load: `node bench/profile.mjs <server> [seconds] [route]`
// e.g. `node bench/profile.mjs metrics 10`. Runs bench/servers/<server>.cjs with --cpu-prof on the
// server core, drives it with autocannon from this core, then prints the top functions by self
// time (and by file) from the written .cpuprofile (kept in bench/.out/ for Chrome DevTools).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIR, pinning, pinSelf, snapshotDist, startServer, startSinks } from './lib/proc.mjs';

const [name = 'metrics', seconds = '10', route = '/users/42'] = process.argv.slice(2);
const outDir = path.join(BENCH_DIR, '.out');
const pin = pinning();
pinSelf(pin);
const dropSnapshot = snapshotDist();
const sinks = await startSinks();
const started = Date.now();
const server = await startServer(pin, `${name}.cjs`, { OTLP_URL: sinks.otlp, ES_URL: sinks.es }, [
  '--cpu-prof',
  `--cpu-prof-dir=${outDir}`,
  `--cpu-prof-name=${name}-${started}.cpuprofile`,
]);
await autocannon({ url: server.url + route, connections: 32, duration: 2 });
const r = await autocannon({ url: server.url + route, connections: 32, duration: Number(seconds) });
const served = r.requests.total + 2 * r.requests.average; // plus the warm-up (approximation)
console.log(`${name}: ${Math.round(r.requests.average)} req/s under the profiler (~${Math.round(served)} requests profiled)`);
await server.stop();
await sinks.stop();
dropSnapshot();

const file = readdirSync(outDir).filter((f) => f.startsWith(`${name}-${started}`)).map((f) => path.join(outDir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
if (!file) throw new Error(`no profile written in ${outDir}`);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const n = byId.get(prof.samples[i]);
  self.set(n.id, (self.get(n.id) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fnTotals = new Map();
const fileTotals = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const where = cf.url ? cf.url.replace(/^file:\/\//, '').replace(`${path.dirname(BENCH_DIR)}/`, '') : '(native)';
  const key = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
  const group = where.includes('node_modules/') ? where.replace(/^.*node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1') : where;
  fileTotals.set(group, (fileTotals.get(group) ?? 0) + us);
}
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}% ${(us / served).toFixed(2).padStart(7)} µs/req  ${k}`);
console.log(`\nprofile: ${path.relative(process.cwd(), file)}\n\nTop functions by self time:\n${top(fnTotals, 30).join('\n')}`);
console.log(`\nBy file / package:\n${top(fileTotals, 25).join('\n')}`);

// Inclusive time of our own frames (dist/): self time plus everything called below them.
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cf = byId.get(cur).callFrame;
    if (!cf.url.includes('/dist/')) continue;
    const key = `${cf.functionName || '(anonymous)'}  ${cf.url.replace(/^.*\/dist\//, 'dist/')}:${cf.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    incl.set(key, (incl.get(key) ?? 0) + us);
  }
}
const busy = total - [...fnTotals].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, us]) => a + us, 0);
console.log(`\nOur frames, inclusive (% of busy time; busy = ${((busy / total) * 100).toFixed(1)}% of samples):`);
console.log([...incl].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([k, us]) => `${((us / busy) * 100).toFixed(1).padStart(5)}%  ${k}`).join('\n'));
