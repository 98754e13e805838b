// Figures and markdown of the benchmark: medians, the machine and versions, tables.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './proc.mjs';

const require = createRequire(path.join(ROOT, 'package.json'));

/** Median of numbers (undefined for an empty list). */
export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** (max - min) / median, as a fraction: the round-to-round spread. */
export function spread(xs) {
  const m = median(xs);
  if (!m || xs.length < 2) return undefined;
  return (Math.max(...xs) - Math.min(...xs)) / m;
}

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch (err) {
    // Packages without an exported package.json: walk up from their entry point.
    let dir = path.dirname(require.resolve(name));
    for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
        if (pkg.name === name) return pkg.version;
      } catch (inner) {
        if (inner.code !== 'ENOENT') throw inner;
      }
    }
    return `? (${err.code ?? err.message})`;
  }
}

/** The machine, the conditions and the versions the figures were measured with. */
export function environment(pin) {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch (err) {
    commit = `unknown (${err.code ?? 'git failed'})`;
  }
  const pkgs = ['express', 'prom-client', 'express-prom-bundle', '@opentelemetry/sdk-trace-node', '@opentelemetry/instrumentation-http',
    '@opentelemetry/instrumentation-express', '@opentelemetry/exporter-trace-otlp-http', 'pino-http', 'pino', 'express-winston', 'winston', 'autocannon'];
  return {
    nproc: cpus.length,
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    memGb: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    pinning: pin.enabled ? `server on core ${pin.serverCore} (taskset -c ${pin.serverCore}), load generator and stand-ins on core ${pin.loadCore}` : `not pinned: ${pin.reason}`,
    loadBefore: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    ours: `${JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version} (${commit})`,
    versions: Object.fromEntries(pkgs.map((p) => [p, versionOf(p)])),
  };
}

const fmt = {
  int: (x) => (x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US')),
  us: (x) => (x === undefined ? 'n/a' : x.toFixed(0)),
  ms: (x) => (x === undefined ? 'n/a' : x.toFixed(2)),
  mb: (x) => (x === undefined ? 'n/a' : (x / 2 ** 20).toFixed(0)),
  pct: (x) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`),
  pm: (x) => (x === undefined ? '–' : `±${((x * 100) / 2).toFixed(1)}%`),
};
export { fmt };

/** A markdown table from a header row and data rows. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** Summary of one variant's rounds. */
export function summarise(runs) {
  const rps = runs.map((r) => r.rps);
  return {
    rps: median(rps),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    rss: median(runs.map((r) => r.rss)),
    cpuPerReq: median(runs.map((r) => r.cpuPerReq)),
    spread: spread(rps),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    rounds: runs.length,
  };
}
