// Builds lib/ to dist/ (CommonJS + .d.ts) and writes an ESM entry that re-exports
// the CommonJS build by name, so `import { createObservability } from
// 'express-observability'` and `require('express-observability')` load one copy.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
// Static assets (dashboard page, scripts, styles) ship as files next to the code.
const assets = path.join(root, 'lib', 'dashboard', 'assets');
if (existsSync(assets)) cpSync(assets, path.join(dist, 'dashboard', 'assets'), { recursive: true });
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
