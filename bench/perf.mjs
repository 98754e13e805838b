// Where a benchmark server's CPU goes, whole process, all threads, kernel included (not part of `npm run bench`):
//   node bench/perf.mjs bare metrics traced full [experiment:nomw,norouter ...]
// Arguments as in bench/ab.mjs (<server>[:<EXP>[:<VAR=value,...>]]). Needs Linux `perf` (Debian: linux-perf).
// Per variant: a fresh server on the server core with V8's jitdump on (--perf-prof), WARM s of load (default 8:
// long enough for the JIT to settle, see docs/performance.md), then `perf record` (software cpu-clock, call
// graphs) over DUR s (default 5) of load, `perf inject --jit` to name compiled JavaScript correctly even after
// V8 moved or freed code, and a table of µs per request by where the time went: the kernel waking the load
// generator, the rest of the network stack, other kernel work, garbage collection, the JIT compilers, and
// JavaScript (with the builtins and runtime code it called) by package. Sampling itself costs CPU, so totals
// run above bench/ab.mjs's; compare variants within one run. Scratch files go to a temporary directory.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { pinning, pinSelf, startServer, startSinks, variantOf } from './lib/proc.mjs';

const warm = Number(process.env.WARM || 8);
const dur = Number(process.env.DUR || 5);
const route = process.env.ROUTE || '/users/42';
// TOP=n: also list each variant's n costliest functions (the nearest compiled JavaScript frame, else the leaf).
const top = Number(process.env.TOP || 0);
if (spawnSync('perf', ['--version']).status !== 0) throw new Error('bench/perf.mjs needs `perf` (Debian package linux-perf)');

/** The category of one sample, from its frames (leaf first). */
function categorise(frames, thread) {
  const leaf = frames[0];
  const all = frames.map((f) => f.sym).join('\n');
  if (leaf.kernel) {
    if (all.includes('sock_def_readable')) return 'kernel: waking the reader of a socket';
    if (/tcp_|inet_|sock_|skb_|__napi|net_rx/.test(all)) return 'kernel: TCP/loopback (the rest)';
    if (/page_fault/.test(all)) return 'kernel: page faults';
    return 'kernel: other (epoll, futex, files, scheduling)';
  }
  if (/Heap::|Scavenge|MarkCompact|Sweeper|ConcurrentMarking|MinorMark|GCTracer|MemoryAllocator/.test(all)) return 'garbage collection';
  if (/Compiler|compiler::|maglev::|Maglev|Baseline|Sparkplug|Turbofan|OptimizingCompile/.test(all)) return 'JIT compilers';
  if (thread !== 'main') return `other threads (${thread})`;
  const js = frames.find((f) => f.sym.startsWith('JS:'));
  if (js === undefined) return 'no JavaScript on the stack (libuv, Node C++)';
  return `JS: ${packageOf(js.sym)}`;
}

/** Which code a compiled JavaScript frame belongs to. */
function packageOf(sym) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(sym);
  if (m) {
    const p = m[1];
    if (p.startsWith('@opentelemetry/')) return 'OpenTelemetry';
    if (['winston', 'winston-transport', 'logform', 'readable-stream', '@colors/colors', 'triple-beam', 'safe-stable-stringify'].includes(p)) return 'winston';
    if (p === 'prom-client' || p === 'tdigest' || p === 'bintrees') return 'prom-client';
    if (p === 'express-prom-bundle' || p === 'url-value-parser') return 'express-prom-bundle';
    if (p.startsWith('pino') || p === 'sonic-boom' || p === 'thread-stream' || p === 'fast-redact' || p === 'quick-format-unescaped' || p === 'atomic-sleep' || p === 'on-exit-leak-free') return 'pino';
    return 'Express and its dependencies';
  }
  if (/\/dist\/|\/lib\/.*\.ts/.test(sym)) return 'express-observability';
  if (/node:/.test(sym)) return 'Node (http, net, streams, events)';
  if (/bench\/servers/.test(sym)) return 'the route handler';
  return 'other JavaScript';
}

/** Parse `perf script` output into samples: { thread, frames: [{ sym, kernel }] }. */
function parseScript(text, pid) {
  const samples = [];
  let cur;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (cur && cur.frames.length) samples.push(cur);
      cur = undefined;
      continue;
    }
    if (line[0] === '\t' || line[0] === ' ') {
      if (!cur) continue;
      const m = /^\s*[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/.exec(line);
      if (m) cur.frames.push({ sym: m[1].replace(/\+0x[0-9a-f]+$/, ''), kernel: m[2].includes('kernel') });
      continue;
    }
    const h = /^(.*?)\s+(\d+)\/(\d+)\s/.exec(line) || /^(.*?)\s+(\d+)\s/.exec(line);
    const tid = h ? (h[3] ?? h[2]) : '';
    const comm = h ? h[1].trim() : '?';
    cur = { thread: tid === String(pid) ? 'main' : comm, frames: [] };
  }
  if (cur && cur.frames.length) samples.push(cur);
  return samples;
}

const pin = pinning();
pinSelf(pin);
const sinks = await startSinks();
const tables = [];
try {
  for (const spec of process.argv.slice(2)) {
    const { file, env, nodeArgs } = variantOf(spec, sinks);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-perf-'));
    try {
      const server = await startServer(pin, file, env, [...nodeArgs, '--perf-prof', '--interpreted-frames-native-stack'], { cwd: dir });
      await autocannon({ url: server.url + route, connections: 32, duration: warm });
      const data = path.join(dir, 'perf.data');
      const rec = spawn('perf', ['record', '-k', '1', '-F', '999', '-e', 'cpu-clock', '-g', '-o', data, '-p', String(server.pid), '--', 'sleep', String(dur)], { stdio: 'ignore' });
      const recorded = new Promise((resolve) => rec.once('exit', resolve));
      const r = await autocannon({ url: server.url + route, connections: 32, duration: dur });
      await recorded;
      const pid = server.pid;
      await server.stop();
      const injected = path.join(dir, 'perf.jit.data');
      const inj = spawnSync('perf', ['inject', '--jit', '-i', data, '-o', injected], { cwd: dir, encoding: 'utf8' });
      if (inj.status !== 0) throw new Error(`perf inject failed: ${inj.stderr}`);
      const script = spawnSync('perf', ['script', '-F', 'comm,pid,tid,ip,sym,dso', '-i', injected], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
      if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
      const samples = parseScript(script.stdout, pid);
      // cpu-clock samples at 999 Hz: each one stands for 1/999 s of CPU on its thread.
      const perReq = 1e6 / 999 / r.requests.total;
      const by = new Map();
      const fns = new Map();
      for (const s of samples) {
        const c = categorise(s.frames, s.thread);
        by.set(c, (by.get(c) ?? 0) + perReq);
        if (top === 0) continue;
        const js = s.frames.find((f) => f.sym.startsWith('JS:'));
        const key = `${c} :: ${js ? js.sym.replace(/^JS:\S*\s?/, '').replace(/^'/, '') : s.frames[0].sym}`;
        fns.set(key, (fns.get(key) ?? 0) + perReq);
      }
      tables.push({ spec, rps: r.requests.average, total: samples.length * perReq, by });
      if (top > 0) {
        console.log(`${spec}: the ${top} costliest functions, µs per request`);
        for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${v.toFixed(2).padStart(6)}  ${k}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await sinks.stop();
}
const cats = [...new Set(tables.flatMap((t) => [...t.by.keys()]))].sort((a, b) => (tables.at(-1).by.get(b) ?? 0) - (tables.at(-1).by.get(a) ?? 0));
console.log(`µs of CPU per request under perf (${warm} s warm-up, ${dur} s sampled, Node ${process.versions.node} for this script; servers run ${process.execPath})`);
console.log(`| ${'where'.padEnd(48)} | ${tables.map((t) => t.spec.padStart(10)).join(' | ')} |`);
console.log(`|${'-'.repeat(50)}|${tables.map(() => '-'.repeat(11) + ':').join('|')}|`);
for (const c of cats) console.log(`| ${c.padEnd(48)} | ${tables.map((t) => (t.by.get(c) ?? 0).toFixed(1).padStart(10)).join(' | ')} |`);
console.log(`| ${'total'.padEnd(48)} | ${tables.map((t) => t.total.toFixed(1).padStart(10)).join(' | ')} |`);
console.log(`| ${'req/s under the sampler'.padEnd(48)} | ${tables.map((t) => String(Math.round(t.rps)).padStart(10)).join(' | ')} |`);
