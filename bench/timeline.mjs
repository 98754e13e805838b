// How long each benchmark server takes to reach its steady per-request cost (not part of `npm run bench`):
//   node bench/timeline.mjs bare metrics traced full otel peers
// Arguments as in bench/ab.mjs (<server>[:<EXP>[:<VAR=value,...>]]). Per variant: a fresh server on the server
// core under continuous load (32 connections), WINDOWS windows (default 8) of STEP s (default 2); for each window
// the server's CPU µs per request on its main thread + on V8's worker threads (optimising compilers, concurrent
// GC), read from /proc/<pid>/task. The first windows carry the JIT's warm-up; `npm run bench`'s warm-up is chosen
// from this (docs/performance.md, "Method").
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { cpuTimesOf, pinning, pinSelf, startServer, startSinks, variantOf } from './lib/proc.mjs';

const windows = Number(process.env.WINDOWS || 8);
const step = Number(process.env.STEP || 2);
const route = process.env.ROUTE || '/users/42';

/** CPU time (µs) of `pid`'s main thread and of its V8 worker threads, from /proc/<pid>/task. */
function threadTimes(pid) {
  const out = { main: 0, v8: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const key = tid === String(pid) ? 'main' : threadName(pid, tid) === 'V8Worker' ? 'v8' : undefined;
    const t = key === undefined ? undefined : cpuTimesOf(pid, tid);
    if (t !== undefined) out[key] += t.user + t.system;
  }
  return out;
}

/** The name of thread `tid` of `pid`; undefined once it is gone. */
function threadName(pid, tid) {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return undefined; // the thread ended between readdir and read
  }
}

const pin = pinning();
pinSelf(pin);
const sinks = await startSinks();
console.log(`CPU µs/request per ${step} s window under continuous load: main thread + V8 worker threads (Node ${process.versions.node})`);
try {
  for (const spec of process.argv.slice(2)) {
    const { file, env, nodeArgs } = variantOf(spec, sinks);
    const server = await startServer(pin, file, env, nodeArgs);
    const cells = [];
    let before = threadTimes(server.pid);
    for (let w = 0; w < windows; w++) {
      const r = await autocannon({ url: server.url + route, connections: 32, duration: step });
      const after = threadTimes(server.pid);
      const n = r.requests.total;
      cells.push(`${((after.main - before.main) / n).toFixed(0)}+${((after.v8 - before.v8) / n).toFixed(1)}`);
      before = after;
    }
    console.log(`${spec.padEnd(14)} ${cells.map((c) => c.padStart(9)).join(' ')}`);
    await server.stop();
  }
} finally {
  await sinks.stop();
}
