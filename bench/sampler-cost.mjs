// The system sampler's own cost (issue 6). Needs the built package: `npm run build` first.
//   node bench/sampler-cost.mjs [--samples=200] [--idle=10] [--load=10] [--rate=2000] [--rounds=3]
// Part A, in this process: CPU time of one sample, of the once-a-minute mount-list refresh (self +
//   children: the package's default probe, and systeminformation's fsSize() for comparison, which runs
//   `cat /proc/mounts` synchronously and `df`), the longest stop of the event loop each refresh causes, and
//   what that means in % of one core at the default interval and at 1 s.
// Part B, one child server per variant (sampler off / default 15 s / 1 s): event-loop delay p99 idle and
//   under a fixed request rate, request latency p99 (autocannon), and the server's CPU while idle.
// Variants are interleaved over rounds; the table shows medians. Prints a table; asserts nothing about timing.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, fallback) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const DEFAULT_INTERVAL_MS = 15_000;

/** CPU of reaped children (utime + stime of /proc/self/stat), in ms; 0 where /proc is missing. */
function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[13]) + Number(fields[14]); // cutime, cstime (fields 16, 17)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function serverMode() {
  const express = require('express');
  const { createObservability } = require('../dist/index.js');
  const variant = process.env.VARIANT;
  const system = variant === 'off' ? { enabled: false } : { intervalMs: Number(variant) };
  const obs = createObservability({ serviceName: 'sampler-bench', system, tracing: { enabled: false }, logging: { stdout: false, accessLog: false } });
  const app = express();
  app.use(obs.middleware);
  app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let cpu0 = 0;
  let t0 = 0;
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (m === 'start') {
      eld.reset();
      eld.enable();
      cpu0 = selfCpuMs();
      t0 = performance.now();
    } else if (m === 'stop') {
      eld.disable();
      const wall = performance.now() - t0;
      process.send({ p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, cpuPct: ((selfCpuMs() - cpu0) / wall) * 100 });
    } else if (m === 'exit') {
      server.close();
      void obs.shutdown().then(() => process.exit(0));
    }
  });
}

async function partA(samples) {
  const { createObservability } = require('../dist/index.js');
  const obs = createObservability({ system: { intervalMs: 3_600_000 }, tracing: { enabled: false }, logging: { stdout: false } });
  const si = require('systeminformation');
  const { DEFAULT_PROBES } = require('../build/system/probes.js');
  await obs.system.sample(); // the first sample also reads the mount list: measured apart below
  const c0 = selfCpuMs();
  const w0 = performance.now();
  for (let i = 0; i < samples; i++) await obs.system.sample();
  const perSampleCpu = (selfCpuMs() - c0) / samples;
  const perSampleWall = (performance.now() - w0) / samples;
  /** CPU per call (self + children) and the longest wait for the next event-loop turn after starting one. */
  const refresh = async (fn) => {
    const k0 = selfCpuMs();
    const ch0 = childrenCpuMs();
    const refreshes = 20;
    let blocked = 0;
    for (let i = 0; i < refreshes; i++) {
      const t0 = performance.now();
      const done = fn();
      await new Promise(setImmediate);
      blocked = Math.max(blocked, performance.now() - t0);
      await done;
    }
    return { cpu: (selfCpuMs() - k0 + childrenCpuMs() - ch0) / refreshes, blocked };
  };
  const probe = await refresh(() => DEFAULT_PROBES.mounts());
  const fsSize = await refresh(() => si.fsSize());
  await obs.shutdown();
  const pct = (intervalMs) => ((perSampleCpu / intervalMs) + probe.cpu / 60_000) * 100;
  return { perSampleCpu, perSampleWall, refreshCpu: probe.cpu, refreshBlocked: probe.blocked, fsSize, pctDefault: pct(DEFAULT_INTERVAL_MS), pct1s: pct(1000) };
}

function ask(child, msg) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(msg);
  });
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function partB(idleS, loadS, rate, rounds) {
  const runs = [];
  for (let round = 0; round < rounds; round++) runs.push(...(await oneRound(idleS, loadS, rate)));
  return ['off', String(DEFAULT_INTERVAL_MS), '1000'].map((variant) => {
    const mine = runs.filter((r) => r.variant === variant);
    const m = (f) => median(mine.map(f));
    return {
      variant,
      idle: { p99: m((r) => r.idle.p99), max: m((r) => r.idle.max), cpuPct: m((r) => r.idle.cpuPct) },
      loaded: { p99: m((r) => r.loaded.p99) },
      reqP50: m((r) => r.reqP50),
      reqP99: m((r) => r.reqP99),
      rps: m((r) => r.rps),
      errors: mine.reduce((n, r) => n + r.errors, 0),
    };
  });
}

async function oneRound(idleS, loadS, rate) {
  const rows = [];
  for (const variant of ['off', String(DEFAULT_INTERVAL_MS), '1000']) {
    const child = fork(fileURLToPath(import.meta.url), ['--server'], { env: { ...process.env, VARIANT: variant }, stdio: 'inherit' });
    const { port } = await new Promise((resolve) => child.once('message', resolve));
    await new Promise((r) => setTimeout(r, 500));
    child.send('start');
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const idle = await ask(child, 'stop');
    child.send('start');
    const load = await autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: 10, overallRate: rate, duration: loadS });
    const loaded = await ask(child, 'stop');
    child.send('exit');
    await new Promise((r) => child.once('exit', r));
    rows.push({ variant, idle, loaded, reqP99: load.latency.p99, reqP50: load.latency.p50, rps: load.requests.average, errors: load.errors + load.non2xx });
  }
  return rows;
}

if (argv.includes('--server')) {
  await serverMode();
} else {
  const samples = opt('samples', 200);
  const a = await partA(samples);
  console.log(`# System sampler cost (node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'})\n`);
  console.log(`Part A: ${samples} samples in-process`);
  console.log(`  CPU per sample (cpu, memory, statfs per mount, load, event-loop read): ${a.perSampleCpu.toFixed(3)} ms (wall ${a.perSampleWall.toFixed(2)} ms)`);
  console.log(`  mount-list refresh (once a minute), self + children CPU: ${a.refreshCpu.toFixed(2)} ms; longest stop of the event loop: ${a.refreshBlocked.toFixed(2)} ms`);
  console.log(`  (systeminformation.fsSize() instead: ${a.fsSize.cpu.toFixed(2)} ms of CPU, event loop stopped up to ${a.fsSize.blocked.toFixed(2)} ms)`);
  console.log(`  => ${a.pctDefault.toFixed(4)} % of one core at the default ${DEFAULT_INTERVAL_MS / 1000} s interval, ${a.pct1s.toFixed(4)} % at 1 s\n`);
  const idleS = opt('idle', 10);
  const loadS = opt('load', 10);
  const rate = opt('rate', 2000);
  const rounds = opt('rounds', 3);
  const rows = await partB(idleS, loadS, rate, rounds);
  console.log(`Part B: one server per variant; idle ${idleS} s, then ${rate} req/s for ${loadS} s (autocannon, 10 connections); medians of ${rounds} interleaved rounds`);
  console.log('| sampler | idle loop p99 ms | idle loop max ms | idle server CPU % | loaded loop p99 ms | request p50 ms | request p99 ms | req/s | errors |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const name = r.variant === 'off' ? 'off' : `every ${Number(r.variant) / 1000} s`;
    console.log(
      `| ${name} | ${r.idle.p99.toFixed(2)} | ${r.idle.max.toFixed(2)} | ${r.idle.cpuPct.toFixed(3)} | ${r.loaded.p99.toFixed(2)} | ${r.reqP50} | ${r.reqP99} | ${Math.round(r.rps)} | ${r.errors} |`,
    );
  }
}
