#!/usr/bin/env node
'use strict';
// express-observability-rules: render an alert rule set (YAML/JSON/JS) as a Prometheus rule file.
//   express-observability-rules --config rules.yaml > rules.yml
//   express-observability-rules --config rules.yaml --out rules.yml
// The config holds the `alerts` section (rules, slos, export...) or whole createObservability()
// options with an `alerts` key (then `metrics.buckets`, if given, checks SLO latency bounds).
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');
const { renderPrometheusRules } = require('../dist/index.js');

const USAGE = 'usage: express-observability-rules --config <rules.yaml|rules.json|options.js> [--out <rules.yml>]';

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (key === '--config' || key === '-c') args.config = value;
    else if (key === '--out' || key === '-o') args.out = value;
    else if (key === '--help' || key === '-h') args.help = true;
    else throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
  }
  return args;
}

function loadConfig(file) {
  const ext = path.extname(file);
  if (ext === '.js' || ext === '.cjs') return require(path.resolve(file));
  return parse(readFileSync(file, 'utf8'));
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!args.config) throw new Error(USAGE);
  const doc = loadConfig(args.config);
  if (doc === null || typeof doc !== 'object') throw new Error(`${args.config}: expected an object with "rules" and/or "slos"`);
  const alerts = doc.alerts !== undefined ? doc.alerts : doc;
  const buckets = doc.alerts !== undefined && doc.metrics && doc.metrics.buckets ? doc.metrics.buckets : undefined;
  const text = renderPrometheusRules(alerts, buckets);
  if (args.out) writeFileSync(args.out, text);
  else process.stdout.write(text);
}

try {
  main();
} catch (err) {
  process.stderr.write(`express-observability-rules: ${err && err.message ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
