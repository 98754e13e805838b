// Where a benchmark server's CPU goes, whole process, all threads, kernel included (not part of `npm run bench`):
//   node bench/perf.mjs bare metrics traced full [experiment:nomw,norouter ...]
// Arguments as in bench/ab.mjs (<server>[:<EXP>[:<VAR=value,...>]]). Needs Linux `perf` (Debian: linux-perf).
// Per variant: a fresh server on the server core with V8's jitdump on (--perf-prof), WARM s of load (default 8:
// long enough for the JIT to settle, see docs/performance.md), then `perf record` (software cpu-clock, call
// graphs) over DUR s (default 5) of load, `perf inject --jit` to name compiled JavaScript correctly even after
// V8 moved or freed code, and a table of µs per request by where the time went: the kernel waking the load
// generator, the rest of the network stack, other kernel work, garbage collection, the JIT compilers, and
// JavaScript (with the builtins and runtime code it called) by package; then a table by where the work
// started (the request's handling, the response's 'finish' event, the package's end-of-turn work, background
// timers and HTTP clients), user and kernel apart. Sampling itself costs CPU, so totals run above bench/ab.mjs's; compare variants
// within one run. Scratch files go to a temporary directory.
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
// TOP_ORIGIN=text: list only the samples whose origin (second table) contains text, e.g. "turn's end".
const topOrigin = process.env.TOP_ORIGIN || '';
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

/**
 * Where the work of a sample started: which event-loop entry point is at the root of its JavaScript
 * stack (the request's handling through the app, the response's `finish` event, the package's work at
 * the end of the turn, timers and immediates, the HTTP clients of the exports), split into user and kernel time.
 */
function originOf(frames, thread) {
  if (thread !== 'main') return 'other threads (JIT compilers, GC helpers)';
  const js = frames.filter((f) => f.sym.startsWith('JS:')).map((f) => f.sym);
  const kernel = frames[0].kernel ? ', kernel' : ', user';
  if (js.length === 0) return `main thread outside JavaScript (epoll, GC, libuv)${kernel}`;
  const all = js.join('\n');
  // OutgoingMessage's onFinish (a tick after the response's last write): our recording runs there.
  if (/onFinish node:_http_outgoing:/.test(all)) return `response finished ('finish' event)${kernel}`;
  // The package's end-of-turn queue (lib/util/turn-end.ts): participants' finish for the turn's requests, log writes.
  if (/\brunQueue\b/.test(all)) return `the turn's end (spans ended, access lines, log writes)${kernel}`;
  if (/(parserOnIncoming|parserOnHeadersComplete|parserOnMessageComplete) node:_http_/.test(all)) return `request: parsing, routing, handler, response write${kernel}`;
  if (/otlp-exporter-base|node:_http_client|node:_http_agent/.test(all)) return `background: the exports' HTTP clients${kernel}`;
  if (all.includes('node:internal/timers:')) return `background: timers and immediates${kernel}`;
  return `other${kernel}`;
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
      const origins = new Map();
      const fns = new Map();
      for (const s of samples) {
        const c = categorise(s.frames, s.thread);
        by.set(c, (by.get(c) ?? 0) + perReq);
        const o = originOf(s.frames, s.thread);
        origins.set(o, (origins.get(o) ?? 0) + perReq);
        if (top === 0 || !o.includes(topOrigin)) continue;
        const js = s.frames.find((f) => f.sym.startsWith('JS:'));
        const key = `${c} :: ${js ? js.sym.replace(/^JS:[*~^+-]?/, '').replace(/^'/, '') : s.frames[0].sym}`;
        fns.set(key, (fns.get(key) ?? 0) + perReq);
      }
      tables.push({ spec, rps: r.requests.average, total: samples.length * perReq, by, origins });
      if (top > 0) {
        console.log(`${spec}: the ${top} costliest functions${topOrigin ? ` where the work started in "${topOrigin}"` : ''}, µs per request`);
        for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${v.toFixed(2).padStart(6)}  ${k}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await sinks.stop();
}
console.log(`µs of CPU per request under perf (${warm} s warm-up, ${dur} s sampled, Node ${process.versions.node} for this script; servers run ${process.execPath})`);
/** One markdown table: a row per key of `pick(table)`, the costliest (in the last variant) first. */
function printTable(title, pick, width) {
  const keys = [...new Set(tables.flatMap((t) => [...pick(t).keys()]))].sort((a, b) => (pick(tables.at(-1)).get(b) ?? 0) - (pick(tables.at(-1)).get(a) ?? 0));
  console.log(`| ${title.padEnd(width)} | ${tables.map((t) => t.spec.padStart(10)).join(' | ')} |`);
  console.log(`|${'-'.repeat(width + 2)}|${tables.map(() => '-'.repeat(11) + ':').join('|')}|`);
  for (const k of keys) console.log(`| ${k.padEnd(width)} | ${tables.map((t) => (pick(t).get(k) ?? 0).toFixed(1).padStart(10)).join(' | ')} |`);
  console.log(`| ${'total'.padEnd(width)} | ${tables.map((t) => t.total.toFixed(1).padStart(10)).join(' | ')} |`);
}
printTable('where', (t) => t.by, 48);
console.log(`| ${'req/s under the sampler'.padEnd(48)} | ${tables.map((t) => String(Math.round(t.rps)).padStart(10)).join(' | ')} |`);
console.log('');
printTable('where the work started', (t) => t.origins, 66);
