// Builds lib/ into dist/:
// - tsc compiles lib/ to build/ (CommonJS and .d.ts, one file per module: what the tests of the
//   build's internals and the in-process benchmarks load);
// - esbuild joins build/'s modules into one file, dist/index.js (each module keeps its own CommonJS
//   scope and runs when first required, as under Node's loader; dependencies stay `require()`s of
//   node_modules). One file instead of ~136 saves ~20 ms of `require` (docs/performance.md, "Start-up");
// - the .d.ts files and the dashboard's static files are copied next to it (dist/assets);
// - an ESM entry re-exports the CommonJS build by name, so `import { createObservability } from
//   'express-observability'` and `require('express-observability')` load one copy.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build');
const dist = path.join(root, 'dist');
rmSync(out, { recursive: true, force: true });
rmSync(dist, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });

await build({
  entryPoints: [path.join(out, 'index.js')],
  outfile: path.join(dist, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
});
// esbuild escapes non-ASCII characters in code (charset 'ascii') but keeps the JSDoc of class members
// as written. One such character makes V8 hold the whole ~520 KB source as two-byte (UTF-16) text:
// +0.5 MB at start-up (docs/performance.md, "Start-up"). Escaped, they read the same in a comment.
const bundle = path.join(dist, 'index.js');
writeFileSync(bundle, readFileSync(bundle, 'utf8').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
cpSync(out, dist, { recursive: true, filter: (src) => !src.endsWith('.js') });
// Static assets (dashboard page, scripts, styles) ship as files next to the code that serves them:
// lib/dashboard/assets for the sources, build/dashboard/assets for the per-module build, dist/assets for
// the one-file build (lib/dashboard/http.ts reads `assets/` beside its own file).
const assets = path.join(root, 'lib', 'dashboard', 'assets');
if (existsSync(assets)) {
  cpSync(assets, path.join(out, 'dashboard', 'assets'), { recursive: true });
  cpSync(assets, path.join(dist, 'assets'), { recursive: true });
}

const require = createRequire(import.meta.url);
const cjs = require(path.join(dist, 'index.js'));
const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule').sort();
const esm = [
  "import cjs from './index.js';",
  ...names.map((n) => `export const ${n} = cjs.${n};`),
  'export default cjs;',
  '',
].join('\n');
writeFileSync(path.join(dist, 'index.mjs'), esm);
