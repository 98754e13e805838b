// Process plumbing of the benchmark: CPU pinning, server children, the stand-ins, RSS readings.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH_DIR, '..');

/** `taskset` if present (util-linux) and the machine has at least two cores; else undefined. */
export function pinning() {
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  if (cores < 2) return { enabled: false, reason: `only ${cores} core(s)` };
  const r = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' });
  if (r.status !== 0) return { enabled: false, reason: 'taskset (util-linux) not installed' };
  return { enabled: true, taskset: r.stdout.trim(), loadCore: 0, serverCore: 1 };
}

/** Pin this process (all its threads, and so its future children) to the load generator's core. */
export function pinSelf(pin) {
  if (!pin.enabled) return;
  execFileSync(pin.taskset, ['-a', '-cp', String(pin.loadCore), String(process.pid)], { stdio: 'ignore' });
}

/** Resident set size of `pid` in bytes, from /proc (undefined off Linux or once the process is gone). */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch (err) {
    if (err && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Clock ticks per second of /proc CPU times. */
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout);
  return r.status === 0 && n > 0 ? n : 100;
})();

/**
 * User and system CPU time of `pid` in µs, from /proc/<pid>/stat (of its thread `tid` when given, from
 * /proc/<pid>/task/<tid>/stat); undefined once the process or thread is gone.
 */
export function cpuTimesOf(pid, tid) {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(rest[11]) / CLK_TCK) * 1e6, system: (Number(rest[12]) / CLK_TCK) * 1e6 };
  } catch (err) {
    if (err && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Total CPU time (user + system) of `pid` in µs; undefined once the process is gone. */
export function cpuTimeOf(pid) {
  const t = cpuTimesOf(pid);
  return t === undefined ? undefined : t.user + t.system;
}

/**
 * A variant argument of the A/B tools (ab.mjs, gc.mjs, perf.mjs, timeline.mjs):
 * `<server>[:<EXP value>[:<VAR=value,...>]]`. Returns the server file, its environment (EXP, the
 * stand-ins' URLs, the VARs) and the flags for node itself (the VAR `NODE_ARGS`, separated by spaces).
 */
export function variantOf(spec, sinks) {
  const [name, exp = '', extra = ''] = spec.split(':');
  const env = { EXP: exp, OTLP_URL: sinks.otlp, ES_URL: sinks.es };
  for (const kv of extra.split(',').filter(Boolean)) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const nodeArgs = (env.NODE_ARGS || '').split(' ').filter(Boolean);
  delete env.NODE_ARGS;
  return { file: `${name}.cjs`, env, nodeArgs };
}

/**
 * Start `bench/servers/<file>` on the server core; resolves once it printed "LISTENING <port>".
 * Lines "PARTS <list>" are collected (which parts of our stack the server wired).
 * `cwd` (default the repository) is where the server runs (bench/perf.mjs points it at a scratch directory).
 */
export function startServer(pin, file, env = {}, nodeArgs = [], { cwd = ROOT } = {}) {
  const script = path.join(BENCH_DIR, 'servers', file);
  const [cmd, args] = pin.enabled
    ? [pin.taskset, ['-c', String(pin.serverCore), process.execPath, ...nodeArgs, script]]
    : [process.execPath, [...nodeArgs, script]];
  const child = spawn(cmd, args, { cwd, env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => {
    err = (err + c.toString()).slice(-8000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not start within 20 s\n${out}\n${err}`));
    }, 20_000);
    const early = (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before listening\n${out}\n${err}`));
    };
    child.once('exit', early);
    child.stdout.on('data', (c) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeListener('exit', early);
      const parts = /PARTS ([^\n]*)/.exec(out);
      resolve({
        pid: child.pid,
        url: `http://127.0.0.1:${m[1]}`,
        parts: parts ? parts[1].trim() : undefined,
        stderr: () => err,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return exited;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 8000);
          const r = await exited;
          clearTimeout(t);
          return r;
        },
      });
    });
  });
}

/** Fork the stand-ins (bench/sinks.cjs); resolves with their URLs, `stats()` and `stop()`. */
export function startSinks() {
  const child = fork(path.join(BENCH_DIR, 'sinks.cjs'), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const early = (code) => reject(new Error(`sinks exited with ${code}`));
    child.once('exit', early);
    child.stdout.on('data', (c) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      child.removeListener('exit', early);
      const urls = JSON.parse(out.slice(0, nl));
      resolve({
        ...urls,
        stats: () =>
          new Promise((res) => {
            child.once('message', (m) => res(m.stats));
            child.send({ cmd: 'stats' });
          }),
        stop: () =>
          new Promise((res) => {
            child.once('exit', () => res());
            child.send({ cmd: 'stop' });
          }),
      });
    });
  });
}

/** Run a node script on the server core and parse the JSON it prints last. */
export function runPinnedScript(pin, script, args = [], env = {}) {
  const file = path.join(BENCH_DIR, script);
  const [cmd, argv] = pin.enabled
    ? [pin.taskset, ['-c', String(pin.serverCore), process.execPath, file, ...args]]
    : [process.execPath, [file, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c.toString()));
    child.stderr.on('data', (c) => (err = (err + c.toString()).slice(-8000)));
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() || '';
      if (code !== 0) return reject(new Error(`${script} exited with ${code}\n${err}`));
      try {
        resolve(JSON.parse(last));
      } catch (e) {
        reject(new Error(`${script} printed no JSON result (${e.message})\n${out}\n${err}`));
      }
    });
  });
}

/**
 * Copy dist/ to bench/.out/pkg-<pid>/dist and point the servers at it (BENCH_DIST), so a rebuild
 * started elsewhere during a long run cannot swap or delete the code under test. Returns a cleanup.
 */
export function snapshotDist() {
  const src = path.join(ROOT, 'dist');
  if (!existsSync(path.join(src, 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first (npm run bench does)');
  const dir = path.join(BENCH_DIR, '.out', `pkg-${process.pid}`);
  cpSync(src, path.join(dir, 'dist'), { recursive: true });
  process.env.BENCH_DIST = path.join(dir, 'dist', 'index.js');
  return () => rmSync(dir, { recursive: true, force: true });
}
