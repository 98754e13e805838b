// Bad rule sets fail at start with a message naming the rule and the field (options, rules files,
// the express-observability-rules command); good ones load from YAML/JSON files and export.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createObservability, RuleError, type AlertsOptions } from '../lib/index';
import { promtool } from './support/tools';
import { ROOT } from './support/demo';

const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-badrules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function start(alerts: unknown): void {
  const obs = createObservability({ serviceName: 'bad', logging: { stdout: false }, dashboard: { enabled: false }, system: { enabled: false }, alerts: alerts as AlertsOptions });
  void obs.shutdown();
}

function fails(alerts: unknown, pattern: RegExp): void {
  assert.throws(() => start(alerts), (err: unknown) => {
    assert.ok(err instanceof RuleError || err instanceof TypeError || err instanceof RangeError, String(err));
    assert.match((err as Error).message, pattern);
    return true;
  });
}

describe('rule validation at start', () => {
  it('unknown kind', () => {
    fails({ rules: [{ name: 'Oops', kind: 'errorRate', threshold: 0.1 }] }, /alert rule "Oops" \(alerts\.rules\[0\]\) field "kind" must be one of errorRatio, latency, gauge, rate, absence, got "errorRate"/);
  });
  it('bad durations', () => {
    fails({ rules: [{ name: 'Win', kind: 'errorRatio', threshold: 0.1, window: '5 minutes' }] }, /alert rule "Win" .*field "window" must be a Prometheus duration/);
    fails({ rules: [{ name: 'For', kind: 'errorRatio', threshold: 0.1, for: 60 }] }, /alert rule "For" .*field "for" must be a Prometheus duration .*got 60/);
    fails({ slos: [{ name: 'S', objective: 0.99, burnRates: [{ long: '5m', short: '1h', factor: 2, severity: 'page' }] }] }, /SLO "S" burn rate .*field "short" must be shorter than "long"/);
    fails({ interval: 'often' }, /option "alerts\.interval" must be a Prometheus duration/);
  });
  it('unknown metric, and a metric of the wrong type', () => {
    fails({ rules: [{ name: 'Ghost', kind: 'gauge', metric: 'no_such_metric', threshold: 1 }] }, /alert rule "Ghost" field "metric": unknown metric "no_such_metric" on the instance's registry \(known gauges: .*http_server_active_requests/);
    fails({ rules: [{ name: 'NotCounter', kind: 'rate', metric: 'http_server_active_requests', threshold: 1 }] }, /alert rule "NotCounter" field "metric": "http_server_active_requests" is not a counter/);
    fails({ rules: [{ name: 'BadName', kind: 'gauge', metric: 'not-a-metric', threshold: 1 }] }, /field "metric" must be a metric name/);
  });
  it('label values and templates that would break PromQL or the rule file', () => {
    fails({ rules: [{ name: 'Quote', kind: 'errorRatio', route: '/a"} or vector(1) #', threshold: 0.1 }] }, /alert rule "Quote" .*field "route" value .* would break the PromQL\/YAML export/);
    fails({ rules: [{ name: 'Nl', kind: 'errorRatio', threshold: 0.1, labels: { team: 'a\nb' } }] }, /field "labels\.team" value .* would break/);
    fails({ rules: [{ name: 'Tpl', kind: 'errorRatio', threshold: 0.1, labels: { team: '{{ $value }}' } }] }, /field "labels\.team" value .* would break/);
    fails({ rules: [{ name: 'Bs', kind: 'gauge', metric: 'http_server_active_requests', matchers: { x: 'a\\b' }, threshold: 1 }] }, /field "matchers\.x" value .* would break/);
    fails({ rules: [{ name: 'LabelName', kind: 'errorRatio', threshold: 0.1, labels: { 'bad-name': 'x' } }] }, /field "labels\.bad-name" is not a valid label/);
    fails({ rules: [{ name: 'Reserved', kind: 'errorRatio', threshold: 0.1, labels: { alertname: 'x' } }] }, /field "labels\.alertname" is reserved/);
    fails({ rules: [{ name: 'Ann', kind: 'errorRatio', threshold: 0.1, annotations: { summary: '{{ range .Alerts }}' } }] }, /field "annotations\.summary" uses the unsupported template action/);
    fails({ rules: [{ name: 'bad name', kind: 'errorRatio', threshold: 0.1 }] }, /field "name" must match/);
  });
  it('thresholds, typos, SLO objectives and latency bounds', () => {
    fails({ rules: [{ name: 'Ratio', kind: 'errorRatio', threshold: 5 }] }, /alert rule "Ratio" .*field "threshold" must be a ratio in \[0, 1\], got 5/);
    fails({ rules: [{ name: 'Typo', kind: 'errorRatio', treshold: 0.1 }] }, /alert rule "Typo" .*field "treshold" is not a known field/);
    fails({ rules: [{ name: 'Q', kind: 'latency', quantile: 99, threshold: 1 }] }, /field "quantile" must be in \(0, 1\)/);
    fails({ slos: [{ name: 'Avail', objective: 99.9 }] }, /SLO "Avail" \(alerts\.slos\[0\]\) field "objective" must be a ratio in \(0, 1\)/);
    fails({ slos: [{ name: 'Fast', objective: 0.99, latency: 0.3 }] }, /SLO "Fast" .*field "latency" must be one of the duration histogram's bucket bounds/);
    fails({ rules: [{ name: 'Twice', kind: 'errorRatio', threshold: 0.1 }, { name: 'Twice', kind: 'errorRatio', threshold: 0.2 }] }, /define the alert "Twice" twice/);
    fails({ notifiers: [{ type: 'pager' }] }, /option "alerts\.notifiers\[0\]\.type" must be "log", "webhook" or "alertmanager"/);
  });
  it('rules files: YAML and JSON load; errors name the file and the rule', () => {
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, 'rules:\n  - name: FileRule\n    kind: errorRatio\n    threshold: 0.2\n    window: 1m\n');
    const obs = createObservability({ serviceName: 'f', logging: { stdout: false }, dashboard: { enabled: false }, system: { enabled: false }, alerts: { file: good, rules: [{ name: 'Inline', kind: 'absence' }] } });
    assert.deepEqual(obs.alerts.rules.map((r) => r.name), ['FileRule', 'Inline']);
    void obs.shutdown();
    const json = path.join(dir, 'rules.json');
    writeFileSync(json, JSON.stringify({ slos: [{ name: 'J', objective: 0.99 }] }));
    start({ file: json });

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n  - name: FromFile\n    kind: errorRatio\n    threshold: 0.2\n    window: soon\n');
    fails({ file: bad }, new RegExp(`alert rule "FromFile" \\(file ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: rules\\[0\\]\\) field "window"`));
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'rules: [\n  - name: x\n');
    fails({ file: broken }, /alert rules file ".*broken\.yaml" is not valid YAML\/JSON/);
    fails({ file: path.join(dir, 'missing.yaml') }, /option "alerts\.file": the rules file ".*missing\.yaml" cannot be read/);
    writeFileSync(path.join(dir, 'extra.yaml'), 'rulez: []\n');
    fails({ file: path.join(dir, 'extra.yaml') }, /unknown option "alerts \(file .*extra\.yaml\)\.rulez"/);
  });
});

describe('express-observability-rules command', () => {
  const bin = path.join(ROOT, 'bin', 'express-observability-rules.js');
  it('writes the Prometheus rule file that promtool accepts (stdout and --out)', () => {
    const cfg = path.join(dir, 'cli.yaml');
    writeFileSync(cfg, 'rules:\n  - name: CliErrors\n    kind: errorRatio\n    route: /users/:id\n    threshold: 0.05\n    for: 2m\nslos:\n  - name: Users\n    objective: 0.995\n    latency: 0.25\n');
    const r = spawnSync(process.execPath, [bin, '--config', cfg], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /alert: CliErrors/);
    assert.match(r.stdout, /record: slo:sli_error:ratio_rate5m/);
    const out = path.join(dir, 'cli-rules.yml');
    const w = spawnSync(process.execPath, [bin, '-c', cfg, '--out', out], { encoding: 'utf8' });
    assert.equal(w.status, 0, w.stderr);
    assert.equal(readFileSync(out, 'utf8'), r.stdout);
    const check = promtool(['check', 'rules', out]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
  it('exits 1 with the validation message on a bad rules file', () => {
    const cfg = path.join(dir, 'cli-bad.yaml');
    writeFileSync(cfg, 'alerts:\n  rules:\n    - name: CliBad\n      kind: gauge\n      metric: x\n      threshold: 1\n      op: "=>"\n');
    const r = spawnSync(process.execPath, [bin, '--config', cfg], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /alert rule "CliBad" .*field "op" must be one of/);
  });
});
