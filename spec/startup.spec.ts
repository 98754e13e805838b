// Start-up cost: parts a default instance does not use are not loaded until they are used.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from './support/demo';

describe('start-up: optional parts load when used', () => {
  it('the YAML library loads only when a rule file is rendered or read', () => {
    const script = `const { createObservability } = require('./lib');
      const obs = createObservability({ logging: { stdout: false }, system: { enabled: false }, alerts: { slos: [{ name: 'availability', objective: 0.999 }] } });
      const loaded = () => Object.keys(require.cache).some((k) => /node_modules\\/yaml\\//.test(k));
      const before = loaded();
      const rules = obs.alerts.toPrometheusRules();
      console.log(JSON.stringify({ before, after: loaded(), rules }));
      obs.shutdown();`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as { before: boolean; after: boolean; rules: string };
    assert.equal(out.before, false, 'createObservability() did not load yaml');
    assert.equal(out.after, true, 'rendering the rules loaded it');
    assert.match(out.rules, /^groups:\n/);
    assert.match(out.rules, /slo:objective:ratio/);
  });

  it('the system sampler loads the systeminformation module it calls (memory; on Linux the mounts are /proc/self/mounts), on its first sample, not the package index', () => {
    const script = `const { createObservability } = require('./lib');
      const si = () => Object.keys(require.cache).filter((k) => /node_modules\\/systeminformation\\//.test(k)).map((k) => k.replace(/^.*systeminformation\\//, '')).sort();
      const atRequire = si();
      const obs = createObservability({ logging: { stdout: false } });
      const atCreate = si();
      obs.system.sample().then(async () => {
        const text = await obs.registry.metrics();
        console.log(JSON.stringify({ atRequire, atCreate, after: si(), total: /^system_memory_limit_bytes [1-9]/m.test(text), mounts: /^system_filesystem_[a-z_]+\\{[^}]*mountpoint="\\/"/m.test(text) }));
        await obs.shutdown();
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as {
      atRequire: string[];
      atCreate: string[];
      after: string[];
      total: boolean;
      mounts: boolean;
    };
    assert.deepEqual(out.atRequire, [], 'requiring the package loads none of systeminformation');
    assert.deepEqual(out.atCreate, [], 'createObservability() itself loads none of it (the first sample does)');
    assert.ok(out.after.includes('lib/memory.js'), `the sampler loaded memory: ${out.after.join(', ')}`);
    assert.ok(!out.after.includes('lib/filesystem.js'), `the filesystem module (fsSize, whose execSync blocks) is not loaded on Linux: ${out.after.join(', ')}`);
    assert.ok(!out.after.includes('lib/index.js'), `the package index (all twenty modules) is not loaded: ${out.after.join(', ')}`);
    assert.equal(out.total, true, 'system_memory_limit_bytes reports the machine\'s memory');
    assert.equal(out.mounts, true, 'the root filesystem is reported');
  });

  it('the system sampler falls back to the systeminformation index when a release moves its modules', () => {
    // A stand-in for a release without lib/memory.js and lib/filesystem.js: resolving them fails.
    const script = `const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (/^systeminformation\\/lib\\//.test(request)) throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      const { createObservability } = require('./lib');
      const obs = createObservability({ logging: { stdout: false } });
      obs.system.sample().then(async () => {
        const text = await obs.registry.metrics();
        const index = Object.keys(require.cache).some((k) => /systeminformation\\/lib\\/index\\.js$/.test(k));
        const failures = (text.match(/^observability_system_probe_failures_total\\{[^}]*\\} [1-9].*$/gm) || []);
        console.log(JSON.stringify({ index, total: /^system_memory_limit_bytes [1-9]/m.test(text), failures }));
        await obs.shutdown();
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as { index: boolean; total: boolean; failures: string[] };
    assert.equal(out.index, true, 'the package index was loaded instead');
    assert.equal(out.total, true, 'memory is still reported');
    assert.deepEqual(out.failures, [], 'no probe failed');
  });

  it('winston loads when the logger is first asked for; the lines written before are the lines winston writes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obs-startup-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'app.log');
    const script = `require('express');
      const http = require('node:http');
      const fs = require('node:fs');
      const winstonLoaded = () => Object.keys(require.cache).some((k) => /node_modules\\/winston\\//.test(k));
      const { createObservability } = require('./dist/index.js');
      // views: true without auth: the router warns at creation, through the package's own path.
      const obs = createObservability({ logging: { stdout: false, file: ${JSON.stringify(file)} }, system: { enabled: false }, views: true });
      const app = require('express')();
      app.use(obs.middleware);
      app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
      const server = app.listen(0, '127.0.0.1', () => {
        http.get({ host: '127.0.0.1', port: server.address().port, path: '/users/7' }, (res) => {
          res.resume();
          res.on('end', async () => {
            const before = winstonLoaded();
            const lines = fs.readFileSync(${JSON.stringify(file)}, 'utf8').trim().split('\\n').map((l) => JSON.parse(l));
            const warned = lines.find((l) => l.level === 'warn');
            // The same call through winston: the logger's own path.
            obs.logger.warn(warned.message, { paths: warned.paths });
            const after = winstonLoaded();
            server.close();
            await obs.shutdown();
            const again = fs.readFileSync(${JSON.stringify(file)}, 'utf8').trim().split('\\n').map((l) => JSON.parse(l)).at(-1);
            console.log(JSON.stringify({ before, after, lines, warned, again }));
          });
        });
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })) as {
      before: boolean;
      after: boolean;
      lines: Array<Record<string, unknown>>;
      warned: Record<string, unknown>;
      again: Record<string, unknown>;
    };
    assert.equal(out.before, false, 'a warning at creation and an access line did not load winston');
    assert.equal(out.after, true, 'obs.logger loaded it');
    assert.ok(out.lines.some((l) => l.message === 'GET /users/7 200' && l.type === 'access' && l.route === '/users/:id'), `the access line was written: ${JSON.stringify(out.lines)}`);
    assert.match(String(out.warned.message), /served without auth/);
    const { timestamp: t1, ...direct } = out.warned;
    const { timestamp: t2, ...viaWinston } = out.again;
    assert.ok(typeof t1 === 'string' && typeof t2 === 'string');
    assert.deepEqual(Object.keys(viaWinston), Object.keys(direct), 'the same keys in the same order');
    assert.deepEqual(viaWinston, direct);
  });

  it('the built package is one module, and a default instance loads none of the optional dependencies', () => {
    // The application's own require('express') comes first, as in bench/startup.cjs.
    const script = `require('express');
      const before = new Set(Object.keys(require.cache));
      const { createObservability } = require('./dist/index.js');
      // Defaults, but no log lines on stdout (the script's output is its JSON). Read before the sampler's first sample.
      const obs = createObservability({ logging: { stdout: false } });
      const added = Object.keys(require.cache).filter((k) => !before.has(k));
      const ours = added.filter((k) => k.startsWith(process.cwd() + '/dist/')).map((k) => k.slice(process.cwd().length + 1));
      const optional = added.filter((k) => /node_modules\\/(yaml|systeminformation|@opentelemetry\\/exporter-[^/]+)\\//.test(k)).map((k) => k.replace(/^.*node_modules\\//, ''));
      obs.registry.metrics().then(async (text) => {
        console.log(JSON.stringify({ ours, optional, served: /^http_server_active_requests /m.test(text) }));
        await obs.shutdown();
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })) as { ours: string[]; optional: string[]; served: boolean };
    assert.deepEqual(out.ours, ['dist/index.js'], 'the package loads as one file');
    assert.deepEqual(out.optional, [], 'no OTLP exporter, YAML or systeminformation without the options that use them');
    assert.equal(out.served, true, 'the instance works');
  });

  it('a default instance loads neither node:cluster, node:https nor node:fs/promises, and prom-client\'s classes without its index', () => {
    // prom-client's index loads its Pushgateway (https, tls) and AggregatorRegistry (cluster); the package uses
    // neither outside a cluster. The classes it loads are the index's own: an application's registry passes instanceof.
    const script = `require('express');
      const builtins = () => process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
      const before = new Set(builtins());
      const { createObservability } = require('./dist/index.js');
      const obs = createObservability({ logging: { stdout: false } });
      obs.system.sample().then(async () => {
        const text = await obs.registry.metrics();
        const loaded = builtins().filter((m) => !before.has(m));
        const promFiles = Object.keys(require.cache).filter((k) => /node_modules\\/prom-client\\/(index|lib\\/[a-zA-Z]+)\\.js$/.test(k)).map((k) => k.replace(/^.*prom-client\\//, ''));
        const client = require('prom-client');
        const theirs = new client.Registry();
        const second = createObservability({ registry: theirs, logging: { stdout: false }, system: { enabled: false } });
        new client.Counter({ name: 'app_orders_total', help: 'orders', registers: [theirs] }).inc();
        const theirsText = await theirs.metrics();
        console.log(JSON.stringify({ loaded, promFiles, sampled: /^system_memory_limit_bytes [1-9]/m.test(text), mounts: /mountpoint="\\/"/.test(text), same: obs.registry instanceof client.Registry, theirsText }));
        await second.shutdown();
        await obs.shutdown();
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })) as { loaded: string[]; promFiles: string[]; sampled: boolean; mounts: boolean; same: boolean; theirsText: string };
    for (const m of ['cluster', 'https', 'tls', 'fs/promises']) {
      assert.ok(!out.loaded.includes(m), `node:${m} is not loaded: ${out.loaded.join(', ')}`);
    }
    assert.ok(!out.promFiles.includes('index.js') && !out.promFiles.includes('lib/pushgateway.js') && !out.promFiles.includes('lib/cluster.js'), `prom-client's index, Pushgateway and AggregatorRegistry are not loaded: ${out.promFiles.join(', ')}`);
    assert.ok(out.promFiles.includes('lib/registry.js') && out.promFiles.includes('lib/histogram.js'), 'its registry and histogram are');
    assert.equal(out.sampled, true, 'the sampler read memory');
    assert.equal(out.mounts, true, 'and the mounts (/proc/self/mounts, statfs)');
    assert.equal(out.same, true, "the instance's registry is an instance of the index's Registry");
    assert.match(out.theirsText, /^app_orders_total 1$/m, "a registry made with the application's prom-client is accepted and keeps its metrics");
    assert.match(out.theirsText, /^http_server_active_requests /m, 'and the package registers its HTTP metrics on it');
  });

  it('prom-client\'s index is loaded instead when a release moves the class files', () => {
    // A stand-in for a release without lib/registry.js, lib/counter.js...: resolving them fails.
    const script = `const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (/^prom-client\\/lib\\/(registry|counter|gauge|histogram|defaultMetrics)$/.test(request)) throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      const { createObservability } = require('./lib');
      const obs = createObservability({ logging: { stdout: false }, system: { enabled: false } });
      obs.registry.metrics().then(async (text) => {
        const index = Object.keys(require.cache).some((k) => /node_modules\\/prom-client\\/index\\.js$/.test(k));
        console.log(JSON.stringify({ index, served: /^http_server_active_requests /m.test(text), process: /^process_cpu_seconds_total /m.test(text) }));
        await obs.shutdown();
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as { index: boolean; served: boolean; process: boolean };
    assert.equal(out.index, true, 'the index was loaded instead');
    assert.equal(out.served, true, 'the HTTP metrics are registered');
    assert.equal(out.process, true, 'and the default process metrics');
  });

  it('the built file is ASCII (one non-ASCII character makes V8 hold its whole source as two-byte text)', () => {
    const text = readFileSync(path.join(ROOT, 'dist', 'index.js'), 'utf8');
    const at = text.search(/[\u0080-\uffff]/);
    assert.equal(at, -1, `non-ASCII at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 20))}`);
  });
});

