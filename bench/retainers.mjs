// What a benchmark server keeps alive under load, and through what (not part of `npm run bench`):
//   node bench/retainers.mjs traced [full ...]        WHO=SpanImpl (default) TOP=40
// Arguments as in bench/ab.mjs. Per variant: a fresh server, 3 s of load from 32 connections, then a
// heap snapshot taken while the load goes on (`--heapsnapshot-signal`). Prints the objects alive by
// constructor (count, bytes), then for every live object named WHO the first "landmark" on its
// shortest retaining path (a timer, socket, parser, queue ...) with the path to it, and what the
// AsyncContextFrames reach (the contexts Node keeps for timers and sockets created during requests).
// Found this way: keep-alive sockets' idle timers holding their last request's span
// (docs/performance.md, "What an open connection keeps").
import path from 'node:path';
import fs from 'node:fs';
import autocannon from 'autocannon';
import { pinning, pinSelf, startServer, startSinks, variantOf } from './lib/proc.mjs';

const who = process.env.WHO || 'SpanImpl';
const top = Number(process.env.TOP || 40);
const LANDMARK = /^object:(Timeout|Socket|IncomingMessage|ServerResponse|HTTPParser|TCP|Immediate|TickObject|Promise|WriteWrap|FinalizationRegistry|BatchQueue|SpanStore|EncodedBatchSpanProcessor)$/;

function analyse(snap) {
  const m = snap.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const types = m.node_types[0];
  const etypes = m.edge_types[0];
  const [ti, ni, si, eci] = ['type', 'name', 'self_size', 'edge_count'].map((f) => m.node_fields.indexOf(f));
  const [eti, eni, eto] = ['type', 'name_or_index', 'to_node'].map((f) => m.edge_fields.indexOf(f));
  const { nodes, edges, strings } = snap;
  const label = (i) => `${types[nodes[i + ti]]}:${strings[nodes[i + ni]]}`.slice(0, 60);
  const firstEdge = new Map();
  const retainers = new Map();
  for (let i = 0, e = 0; i < nodes.length; i += nf) {
    firstEdge.set(i, e);
    for (let k = 0; k < nodes[i + eci]; k++, e += ef) {
      const et = etypes[edges[e + eti]];
      if (et === 'weak') continue;
      const name = et === 'element' || et === 'hidden' ? '[]' : strings[edges[e + eni]];
      const to = edges[e + eto];
      if (!retainers.has(to)) retainers.set(to, []);
      retainers.get(to).push([i, name]);
    }
  }
  const counts = new Map();
  for (let i = 0; i < nodes.length; i += nf) {
    const t = types[nodes[i + ti]];
    if (t !== 'object' && t !== 'closure') continue;
    const c = counts.get(label(i)) ?? [0, 0];
    c[0]++;
    c[1] += nodes[i + si];
    counts.set(label(i), c);
  }
  console.log('  alive    bytes  constructor');
  for (const [k, [n, b]] of [...counts].sort((a, b) => b[1][0] - a[1][0]).slice(0, top)) console.log(String(n).padStart(7), String(b).padStart(8), k);
  const paths = new Map();
  for (let i = 0; i < nodes.length; i += nf) {
    if (strings[nodes[i + ni]] !== who || types[nodes[i + ti]] !== 'object') continue;
    const seen = new Set([i]);
    let frontier = [[i, '']];
    let found = 'no landmark within 12 steps';
    for (let d = 0; d < 12 && frontier.length && found.startsWith('no'); d++) {
      const next = [];
      for (const [n, via] of frontier) {
        for (const [r, name] of retainers.get(n) ?? []) {
          if (seen.has(r)) continue;
          seen.add(r);
          if (LANDMARK.test(label(r))) {
            found = `${label(r)} via ${via}.${name}`;
            break;
          }
          next.push([r, `${via}.${name}<${label(r).split(':')[1]}`.slice(-200)]);
        }
        if (!found.startsWith('no')) break;
      }
      frontier = next;
    }
    paths.set(found, (paths.get(found) ?? 0) + 1);
  }
  console.log(`\n${who}: what keeps each alive (first landmark on the retaining path)`);
  for (const [k, n] of paths) console.log(String(n).padStart(5), k);
  // What the AsyncContextFrames reach: objects, arrays and strings, not functions or shared code.
  const seen = new Set();
  let frontier = [];
  for (let i = 0; i < nodes.length; i += nf) if (strings[nodes[i + ni]] === 'AsyncContextFrame') frontier.push(i);
  const byName = new Map();
  let total = 0;
  for (let d = 0; d < 9 && frontier.length; d++) {
    const next = [];
    for (const n of frontier) {
      if (seen.has(n)) continue;
      seen.add(n);
      const t = types[nodes[n + ti]];
      if (t === 'closure' || t === 'code' || t === 'native' || t === 'synthetic') continue;
      total += nodes[n + si];
      const key = t === 'string' ? 'string' : label(n);
      byName.set(key, (byName.get(key) ?? 0) + nodes[n + si]);
      for (let k = 0, e = firstEdge.get(n); k < nodes[n + eci]; k++, e += ef) {
        if (etypes[edges[e + eti]] === 'weak') continue;
        const name = strings[edges[e + eni]];
        if (name === 'map' || name === '__proto__' || name === 'prototype' || name === 'constructor') continue;
        next.push(edges[e + eto]);
      }
    }
    frontier = next;
  }
  console.log(`\nwhat the AsyncContextFrames reach: ${total} bytes`);
  for (const [k, b] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(String(b).padStart(8), k);
}

const pin = pinning();
pinSelf(pin);
const sinks = await startSinks();
try {
  for (const spec of process.argv.slice(2)) {
    const { file, env, nodeArgs } = variantOf(spec, sinks);
    const dir = fs.mkdtempSync('/tmp/retainers-');
    try {
      const server = await startServer(pin, file, env, [...nodeArgs, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`]);
      const load = autocannon({ url: `${server.url}/users/42`, connections: 32, duration: 4 });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      process.kill(server.pid, 'SIGUSR2');
      await load;
      let snapshot;
      for (let i = 0; i < 100 && !snapshot; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        snapshot = fs.readdirSync(dir).find((n) => n.endsWith('.heapsnapshot'));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await server.stop();
      if (!snapshot) throw new Error(`${spec}: no heap snapshot was written`);
      console.log(`== ${spec}`);
      analyse(JSON.parse(fs.readFileSync(path.join(dir, snapshot), 'utf8')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await sinks.stop();
}
