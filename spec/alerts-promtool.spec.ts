// The exported rule file (obs.alerts.toPrometheusRules() / renderPrometheusRules) is accepted by
// `promtool check rules`, and `promtool test rules` unit tests run on that very output prove each
// kind of rule fires on synthetic series and stays silent below its threshold.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createObservability, renderPrometheusRules, type AlertsOptions } from '../lib/index';
import { resolveAlertsOptions } from '../lib/alerts/options';
import { RuleState } from '../lib/alerts/state';
import { renderTemplate } from '../lib/alerts/templates';
import type { ResolvedRule } from '../lib/alerts/rules';
import { promtool } from './support/tools';

const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ALERTS: AlertsOptions = {
  rules: [
    { name: 'CheckoutErrors', kind: 'errorRatio', route: '/checkout', threshold: 0.05, window: '5m', for: '2m', severity: 'critical', annotations: { summary: 'errors {{ $value | humanizePercentage }}' } },
    { name: 'CheckoutSlow', kind: 'latency', route: '/checkout', quantile: 0.99, threshold: 0.5, window: '5m', annotations: { summary: 'p99 {{ $value | humanizeDuration }}' } },
    { name: 'DiskFull', kind: 'gauge', metric: 'system_filesystem_utilization_ratio', matchers: { mountpoint: '/' }, threshold: 0.9, for: '5m', annotations: { summary: '{{ $labels.mountpoint }} {{ $value | humanizePercentage }}' } },
    { name: 'JobsFailing', kind: 'rate', metric: 'jobs_failed_total', by: ['queue'], threshold: 1, window: '5m', annotations: { summary: '{{ $labels.queue }} {{ $value | humanize }}/s' } },
    { name: 'NoCheckouts', kind: 'absence', route: '/checkout', window: '10m', for: '5m', annotations: { summary: 'no checkouts' } },
  ],
  slos: [{ name: 'Checkout', objective: 0.999, route: '/checkout', annotations: { summary: 'burning' } }],
};

const base = 'job="app",instance="a:1",method="GET",route="/checkout"';
const count = (status: string, values: string) => ({ series: `http_server_request_duration_seconds_count{${base},status_code="${status}"}`, values });
const bucket = (le: string, values: string) => ({ series: `http_server_request_duration_seconds_bucket{${base},status_code="200",le="${le}"}`, values });
const disk = (mount: string, values: string) => ({ series: `system_filesystem_utilization_ratio{job="app",instance="a:1",mountpoint="${mount}",device="/dev/sda1",fstype="ext4"}`, values });
const none = (alertname: string, evalTime: string) => ({ eval_time: evalTime, alertname, exp_alerts: [] });
const sloLabels = (severity: string, long: string) => ({ severity, slo: 'Checkout', long_window: long, route: '/checkout', job: 'app' });

const TESTS = [
  // Error ratio 10% > 5%: fires after `for`; absence silent while traffic flows.
  {
    interval: '1m',
    input_series: [count('200', '0+90x30'), count('500', '0+10x30')],
    alert_rule_test: [
      { eval_time: '10m', alertname: 'CheckoutErrors', exp_alerts: [{ exp_labels: { severity: 'critical', route: '/checkout', job: 'app' }, exp_annotations: { summary: 'errors 10%' } }] },
      none('NoCheckouts', '20m'),
    ],
  },
  // 1% errors: below the threshold.
  { interval: '1m', input_series: [count('200', '0+99x30'), count('500', '0+1x30')], alert_rule_test: [none('CheckoutErrors', '10m')] },
  // p99 in the (0.5, 1] bucket: 0.5 + 0.5 * 39/40 = 0.9875 s.
  {
    interval: '1m',
    input_series: [bucket('0.1', '0+50x30'), bucket('0.5', '0+60x30'), bucket('1', '0+100x30'), bucket('+Inf', '0+100x30')],
    alert_rule_test: [{ eval_time: '10m', alertname: 'CheckoutSlow', exp_alerts: [{ exp_labels: { severity: 'warning', route: '/checkout', job: 'app' }, exp_annotations: { summary: 'p99 987.5ms' } }] }],
  },
  { interval: '1m', input_series: [bucket('0.1', '0+100x30'), bucket('0.5', '0+100x30'), bucket('1', '0+100x30'), bucket('+Inf', '0+100x30')], alert_rule_test: [none('CheckoutSlow', '10m')] },
  // Gauge: only the matched mount, one alert per series with the series' labels.
  {
    interval: '1m',
    input_series: [disk('/', '0.95x30'), disk('/data', '0.99x30')],
    alert_rule_test: [
      { eval_time: '4m', alertname: 'DiskFull', exp_alerts: [] },
      { eval_time: '10m', alertname: 'DiskFull', exp_alerts: [{ exp_labels: { severity: 'warning', job: 'app', instance: 'a:1', mountpoint: '/', device: '/dev/sda1', fstype: 'ext4' }, exp_annotations: { summary: '/ 95%' } }] },
    ],
  },
  { interval: '1m', input_series: [disk('/', '0.5x30')], alert_rule_test: [none('DiskFull', '10m')] },
  // Counter rate 2/s > 1/s by queue; 0.5/s stays silent.
  {
    interval: '1m',
    input_series: [{ series: 'jobs_failed_total{job="app",instance="a:1",queue="mail"}', values: '0+120x30' }, { series: 'jobs_failed_total{job="app",instance="a:1",queue="sms"}', values: '0+30x30' }],
    alert_rule_test: [{ eval_time: '10m', alertname: 'JobsFailing', exp_alerts: [{ exp_labels: { severity: 'warning', queue: 'mail', job: 'app' }, exp_annotations: { summary: 'mail 2/s' } }] }],
  },
  // Absence: a flat counter (no requests) fires after window + for; no series at all fires too.
  {
    interval: '1m',
    input_series: [count('200', '100x40')],
    alert_rule_test: [{ eval_time: '20m', alertname: 'NoCheckouts', exp_alerts: [{ exp_labels: { severity: 'warning', route: '/checkout', job: 'app' }, exp_annotations: { summary: 'no checkouts' } }] }],
  },
  {
    interval: '1m',
    input_series: [{ series: 'up{job="app"}', values: '1x40' }],
    alert_rule_test: [{ eval_time: '20m', alertname: 'NoCheckouts', exp_alerts: [{ exp_labels: { severity: 'warning', route: '/checkout' }, exp_annotations: { summary: 'no checkouts' } }] }],
  },
  // SLO 99.9%: 2% errors burn fast (> 14.4x) and slow (> 6x); budget remaining 1 - 0.02/0.001 = -19.
  {
    interval: '1m',
    input_series: [count('200', '0+98x120'), count('500', '0+2x120')],
    alert_rule_test: [
      {
        eval_time: '70m',
        alertname: 'CheckoutErrorBudgetBurn',
        exp_alerts: [
          { exp_labels: sloLabels('critical', '1h'), exp_annotations: { summary: 'burning' } },
          { exp_labels: sloLabels('warning', '6h'), exp_annotations: { summary: 'burning' } },
        ],
      },
    ],
    promql_expr_test: [
      { expr: 'round(slo:error_budget_remaining:ratio{slo="Checkout"})', eval_time: '70m', exp_samples: [{ labels: '{job="app",slo="Checkout"}', value: -19 }] },
      // The burn rate as the Grafana dashboard computes it, from the recorded objective: 2% / 0.1% = 20.
      { expr: 'round(slo:sli_error:ratio_rate1h{slo="Checkout"} / on (slo) group_left () (1 - slo:objective:ratio))', eval_time: '70m', exp_samples: [{ labels: '{job="app",slo="Checkout"}', value: 20 }] },
    ],
  },
  // 1% errors: only the slow burn (6x = 0.6%) fires, not the fast one (14.4x = 1.44%).
  {
    interval: '1m',
    input_series: [count('200', '0+99x120'), count('500', '0+1x120')],
    alert_rule_test: [{ eval_time: '70m', alertname: 'CheckoutErrorBudgetBurn', exp_alerts: [{ exp_labels: sloLabels('warning', '6h'), exp_annotations: { summary: 'burning' } }] }],
  },
  // 0.5% errors: below both burn rates.
  { interval: '1m', input_series: [count('200', '0+199x120'), count('500', '0+1x120')], alert_rule_test: [none('CheckoutErrorBudgetBurn', '70m')] },
];

describe('Prometheus rule export', () => {
  it('promtool check rules accepts the export of obs.alerts.toPrometheusRules()', () => {
    const obs = createObservability({ serviceName: 'rules', logging: { stdout: false }, dashboard: { enabled: false }, alerts: { ...ALERTS, enabled: false, rules: ALERTS.rules?.filter((r) => r.kind !== 'rate') } });
    const text = obs.alerts.toPrometheusRules();
    void obs.shutdown();
    writeFileSync(path.join(dir, 'instance.yml'), text);
    const r = promtool(['check', 'rules', path.join(dir, 'instance.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 13 rules found/); // 4 alerts, then the SLO: 5 ratios, objective, budget, 2 burn alerts
  });

  it('promtool test rules: every kind fires on synthetic series and stays silent below its threshold', () => {
    writeFileSync(path.join(dir, 'rules.yml'), renderPrometheusRules(ALERTS));
    const check = promtool(['check', 'rules', path.join(dir, 'rules.yml')]);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    writeFileSync(path.join(dir, 'tests.yml'), stringify({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests: TESTS }));
    const r = promtool(['test', 'rules', path.join(dir, 'tests.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
  });
});

describe('in-process evaluation agrees with Prometheus (promtool) where the two could differ', () => {
  it('keepFiringFor counts from the first inactive evaluation; halfway values round to even in templates', () => {
    const spec: AlertsOptions = {
      rules: [
        { name: 'Held', kind: 'gauge', metric: 'queue_depth', threshold: 0, keepFiringFor: '3m', annotations: { summary: '{{ $value | humanizePercentage }} {{ printf "%.2f" $value }}' } },
      ],
    };
    const rule = resolveAlertsOptions(spec, [0.1, 1]).rules[0] as ResolvedRule;
    // Prometheus, on the exported rule: 1 1 0 0 0 0 at 1 m steps: still firing at 4m, resolved at 5m.
    writeFileSync(path.join(dir, 'held.yml'), renderPrometheusRules(spec));
    const gauge = (values: string) => [{ series: 'queue_depth{job="app"}', values }];
    const held = { exp_labels: { severity: 'warning', job: 'app' } };
    const tests = [
      { interval: '1m', input_series: gauge('0.015625 0.015625 0 0 0 0 0'), alert_rule_test: [
        { eval_time: '1m', alertname: 'Held', exp_alerts: [{ ...held, exp_annotations: { summary: '1.562% 0.02' } }] },
        { eval_time: '4m', alertname: 'Held', exp_alerts: [{ ...held, exp_annotations: { summary: '1.562% 0.02' } }] },
        { eval_time: '5m', alertname: 'Held', exp_alerts: [] },
      ] },
      { interval: '1m', input_series: gauge('0.125x3'), alert_rule_test: [{ eval_time: '2m', alertname: 'Held', exp_alerts: [{ ...held, exp_annotations: { summary: '12.5% 0.12' } }] }] },
    ];
    writeFileSync(path.join(dir, 'held-tests.yml'), stringify({ rule_files: ['held.yml'], evaluation_interval: '1m', tests }));
    const r = promtool(['test', 'rules', path.join(dir, 'held-tests.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);

    // In-process, the same series through the rule's state machine and its templates.
    const state = new RuleState(rule, {}, 0);
    const at = (minute: number, value: number) => state.update(minute * 60_000, value > 0 ? [{ labels: { job: 'app' }, value, active: true }] : []);
    const steps = [0.015625, 0.015625, 0, 0, 0, 0].map((v, minute) => ({ minute, changes: at(minute, v).map((t) => t.to) }));
    assert.deepEqual(steps.filter((s) => s.changes.length > 0), [
      { minute: 0, changes: ['firing'] },
      { minute: 5, changes: ['resolved'] },
    ]);
    assert.equal(renderTemplate(rule.annotations.summary as string, 0.015625, {}), '1.562% 0.02');
    assert.equal(renderTemplate(rule.annotations.summary as string, 0.125, {}), '12.5% 0.12');
  });
});
