// What each benchmark server leaves for the garbage collector (not part of `npm run bench`):
//   node bench/gc.mjs bare metrics traced full [experiment:wm,nomw,norouter ...]
// Each argument is <file in bench/servers without .cjs>[:<EXP value>[:<VAR=value,...>]], as in bench/ab.mjs
// (NODE_ARGS=<flags separated by spaces> goes to node). Per variant: a fresh server on
// the server core, 1 s warm-up, then DUR s (default 6) under 32 connections with V8's GC profiler on
// (bench/lib/gc-preload.cjs). Prints scavenges, the bytes that survived and were promoted per scavenge,
// the young generation's size at the end and the RSS. V8 grows the young generation while scavenges
// keep finding survivors, so bytes surviving per scavenge is what drives a server's RSS under load.
// BENCH_OFF and the other bench/servers/options.cjs knobs pass through from the environment.
import path from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIR, pinning, pinSelf, startServer, startSinks, variantOf } from './lib/proc.mjs';

const pin = pinning();
pinSelf(pin);
const dur = Number(process.env.DUR || 6);
const sinks = await startSinks();
const rows = [];
try {
  for (const spec of process.argv.slice(2)) {
    const { file, env, nodeArgs } = variantOf(spec, sinks);
    const server = await startServer(pin, file, env, [...nodeArgs, '-r', path.join(BENCH_DIR, 'lib', 'gc-preload.cjs')]);
    await autocannon({ url: `${server.url}/users/42`, connections: 32, duration: 1 });
    process.kill(server.pid, 'SIGUSR1');
    const r = await autocannon({ url: `${server.url}/users/42`, connections: 32, duration: dur });
    process.kill(server.pid, 'SIGUSR2');
    let line;
    for (let i = 0; i < 50 && !line; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      line = /^GC (\{.*\})$/m.exec(server.stderr())?.[1];
    }
    await server.stop();
    if (!line) throw new Error(`${spec}: the server printed no GC line\n${server.stderr()}`);
    rows.push({ spec, rps: r.requests.average, ...JSON.parse(line) });
  }
} finally {
  await sinks.stop();
}
const f = (n, d = 0) => n.toFixed(d).padStart(8);
console.log(`${'variant'.padEnd(34)}   req/s  scav.  scav.ms  surv.KB  prom.KB  young MB  fullGCs  RSS MB`);
for (const x of rows) {
  console.log(`${x.spec.padEnd(34)}${f(x.rps)}${f(x.scavenges).slice(1)}${f(x.scavengeMs)}${f(x.survivedKbPerScavenge)}${f(x.promotedKbPerScavenge)}${f(x.newSpaceMb)}${f(x.fullGcs)}${f(x.rssMb)}`);
}
console.log('\nwhere the RSS is (MB committed per heap space; external and array buffers outside the heap)');
for (const x of rows) {
  const spaces = Object.entries(x.spacesMb).filter(([, mb]) => mb >= 0.5).map(([name, mb]) => `${name} ${mb}`).join(', ');
  console.log(`${x.spec.padEnd(34)}${spaces}; external ${x.externalMb} (array buffers ${x.arrayBuffersMb})`);
  console.log(`${''.padEnd(34)}young generation at scavenge #: ${x.growth.map(([i, mb]) => `#${i} ${mb} MB`).join(', ')}`);
}
