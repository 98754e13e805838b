import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './support/demo';
import { PACKAGE_VERSION } from '../lib/version';

/**
 * Packs the package with `npm pack`, installs the tarball into a throwaway
 * project (dependencies taken from this repository's node_modules, offline),
 * and loads it from plain CommonJS, plain ESM and strict TypeScript.
 */
describe('the packed package', () => {
  let dir: string;
  let tarball: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'eo-pack-'));
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const info = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(dir, info[0]?.filename ?? '');
    const files = (info[0]?.files ?? []).map((f) => f.path);
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.mjs') && files.includes('dist/index.d.ts'));
    assert.ok(!files.some((f) => f.startsWith('spec/') || f.startsWith('lib/')), 'only the build ships');
    assert.deepEqual(files.filter((f) => f.endsWith('.map')), [], 'no source maps without their sources');
    const app = path.join(dir, 'app');
    execFileSync('mkdir', ['-p', path.join(app, 'node_modules')]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    execFileSync('tar', ['-xzf', tarball, '-C', app]);
    execFileSync('mv', [path.join(app, 'package'), path.join(app, 'node_modules', 'express-observability')]);
    // Resolve the package's dependencies from this repository, as an installed copy would.
    for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
      if (name === '.bin' || name === 'express-observability') continue;
      symlinkSync(path.join(ROOT, 'node_modules', name), path.join(app, 'node_modules', name));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (file: string, source: string): string => {
    const app = path.join(dir, 'app');
    writeFileSync(path.join(app, file), source);
    return execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8' });
  };

  it("PACKAGE_VERSION (the instrumentation scope's version) is package.json's version", () => {
    assert.equal(PACKAGE_VERSION, (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('runs nothing at install time (no install-time lifecycle script for npm to warn about)', () => {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'app', 'node_modules', 'express-observability', 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    const runAtInstall = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => manifest.scripts?.[s] !== undefined);
    assert.deepEqual(runAtInstall, []);
  });

  it('loads with require()', () => {
    const out = run(
      'cjs.cjs',
      `const { createObservability } = require('express-observability');
       const obs = createObservability({ serviceName: 'cjs' });
       obs.registry.metrics().then((t) => { console.log(typeof obs.middleware, t.includes('http_server_active_requests')); return obs.shutdown(); });`,
    );
    assert.equal(out.trim(), 'function true');
  });

  it('loads with import', () => {
    const out = run(
      'esm.mjs',
      `import { createObservability, MetricsCollector } from 'express-observability';
       import def from 'express-observability';
       const obs = createObservability({ serviceName: 'esm' });
       console.log(obs.metrics instanceof MetricsCollector, typeof def.createObservability);
       await obs.shutdown();`,
    );
    assert.equal(out.trim(), 'true function');
  });

  it('type-checks from strict TypeScript (node16 resolution, ESM and CJS)', () => {
    const app = path.join(dir, 'app');
    writeFileSync(
      path.join(app, 'use.mts'),
      `import express from 'express';
       import { createObservability, type Observability, type ObservabilityOptions, type ShutdownReport, type SpoolOptions } from 'express-observability';
       const options: ObservabilityOptions = { serviceName: 'ts', metrics: { buckets: [0.1, 1] } };
       const obs: Observability = createObservability(options);
       const app = express();
       app.use(obs.middleware);
       app.use(obs.router);
       app.use(obs.errorHandler);
       obs.metrics.counter('x_total', 'x', ['a']).inc({ a: 'b' });
       const spool: SpoolOptions = { dir: '/tmp/spool', sync: 'always' };
       export const spooling = createObservability({ logging: { spool } });
       export const done: Promise<ShutdownReport> = obs.shutdown();
       export const lost: Promise<boolean> = done.then((r) => r.failed || r.undelivered.some((c) => c.count > 0));`,
    );
    writeFileSync(
      path.join(app, 'use.cts'),
      `import { createObservability } from 'express-observability';
       export const obs = createObservability({});`,
    );
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'node16', moduleResolution: 'node16', target: 'ES2022', noEmit: true, types: ['node'], skipLibCheck: false, esModuleInterop: true },
        files: ['use.mts', 'use.cts'],
      }),
    );
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { encoding: 'utf8' });
  });
});
