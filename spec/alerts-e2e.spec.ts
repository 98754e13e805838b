// End to end with real servers: the demo app (built package) exports its rules at GET /alerts/rules;
// a real Prometheus scrapes it with those rules and a real Alertmanager routes to a webhook receiver.
// Error traffic → Prometheus's alert arrives at the receiver, and so does the demo's own in-process
// alert (pushed to the same Alertmanager through POST /api/v2/alerts, and to a direct webhook):
// same name, same labels (Prometheus adds the `job` it aggregates by), value within tolerance.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startAlertmanager, startWebhookReceiver, type AlertmanagerServer, type WebhookReceiver } from './support/alertmanager';
import { startDemo, type DemoProcess } from './support/demo';
import { request, waitFor } from './support/http';
import { startPrometheus, type PrometheusServer } from './support/prometheus';
import { promtool } from './support/tools';

type Alert = { status: string; labels: Record<string, string>; annotations: Record<string, string> };
type Payload = { status: string; alerts: Alert[] };

const RULES = `
interval: 1s
resendInterval: 2s
rules:
  - name: DemoErrorRatio
    kind: errorRatio
    window: 15s
    threshold: 0.2
    for: 2s
    severity: page
    labels:
      team: shop
    annotations:
      summary: "Error ratio {{ $value | humanizePercentage }}"
      value: "{{ $value }}"
`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-alerts-e2e-'));
let hook: WebhookReceiver | undefined;
let am: AlertmanagerServer | undefined;
let demo: DemoProcess | undefined;
let prom: PrometheusServer | undefined;
after(async () => {
  await prom?.stop();
  await demo?.stop();
  await am?.stop();
  await hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

function alertsAt(receiver: WebhookReceiver, p: string, pick: (a: Alert) => boolean): Alert[] {
  return receiver.received.filter((r) => r.path === p).flatMap((r) => (r.body as Payload).alerts.filter(pick));
}

describe('alerts end to end (demo + Prometheus + Alertmanager)', () => {
  it('error traffic fires the same alert in Prometheus and in-process, both delivered through Alertmanager, then both resolve', async () => {
    hook = await startWebhookReceiver();
    am = await startAlertmanager(`${hook.url}/am`);
    const rulesFile = path.join(dir, 'demo-rules.yaml');
    writeFileSync(rulesFile, RULES);
    demo = await startDemo({ ALERT_RULES_FILE: rulesFile, ALERTMANAGER_URL: am.url, ALERT_WEBHOOK_URL: `${hook.url}/direct` });

    const exported = await request(demo.url, '/alerts/rules');
    assert.equal(exported.status, 200);
    writeFileSync(path.join(dir, 'exported.yml'), exported.body);
    const check = promtool(['check', 'rules', path.join(dir, 'exported.yml')]);
    assert.equal(check.status, 0, check.stdout + check.stderr);

    prom = await startPrometheus({
      targets: [`127.0.0.1:${demo.port}`],
      scrapeInterval: '1s',
      files: { 'rules.yml': exported.body },
      extraConfig: ['rule_files:', '  - rules.yml', 'alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ['${am.address}']`].join('\n'),
    });
    const p = prom;
    await waitFor(async () => (await p.query('up{job="app"} == 1')).length === 1, 30_000, 250, 'first scrape queryable');

    let traffic = true;
    const driver = (async () => {
      for (let i = 0; traffic; i++) {
        await request((demo as DemoProcess).url, i % 2 === 0 ? '/error' : `/users/${i}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const receiver = hook;
    const isDemo = (a: Alert) => a.labels.alertname === 'DemoErrorRatio';
    try {
      await waitFor(
        () => alertsAt(receiver, '/am', (a) => isDemo(a) && a.status === 'firing' && a.labels.job === 'app').length > 0 &&
          alertsAt(receiver, '/am', (a) => isDemo(a) && a.status === 'firing' && a.labels.job === undefined).length > 0,
        60_000,
        200,
        'both alerts delivered by Alertmanager',
      );
    } finally {
      traffic = false;
      await driver;
    }
    const [fromProm] = alertsAt(receiver, '/am', (a) => isDemo(a) && a.status === 'firing' && a.labels.job === 'app');
    const [fromProcess] = alertsAt(receiver, '/am', (a) => isDemo(a) && a.status === 'firing' && a.labels.job === undefined);
    const [direct] = alertsAt(receiver, '/direct', (a) => isDemo(a) && a.status === 'firing');
    assert.ok(fromProm && fromProcess && direct);
    const { job, ...promLabels } = fromProm.labels;
    assert.equal(job, 'app');
    assert.deepEqual(promLabels, { alertname: 'DemoErrorRatio', severity: 'page', team: 'shop' });
    assert.deepEqual(fromProcess.labels, promLabels, 'in-process labels = Prometheus labels minus the aggregation label');
    assert.deepEqual(direct.labels, promLabels);
    const vProm = Number(fromProm.annotations.value);
    const vProc = Number(fromProcess.annotations.value);
    assert.ok(vProm > 0.35 && vProm < 0.65, `Prometheus value ${vProm}`);
    assert.ok(Math.abs(vProm - vProc) < 0.1, `values agree: Prometheus ${vProm}, in-process ${vProc}`);
    assert.match(fromProcess.annotations.summary ?? '', /^Error ratio \d+(\.\d+)?%$/);

    const status = JSON.parse((await request(demo.url, '/alerts')).body) as { rules: Array<{ name: string; state: string; value: number }> };
    const rule = status.rules.find((r) => r.name === 'DemoErrorRatio');
    assert.equal(rule?.state, 'firing');
    assert.match(demo.output(), /alert firing: DemoErrorRatio/);

    // Traffic stopped: both resolve (the in-process one with a resolved send to Alertmanager).
    await waitFor(
      () => alertsAt(receiver, '/am', (a) => isDemo(a) && a.status === 'resolved' && a.labels.job === 'app').length > 0 &&
        alertsAt(receiver, '/am', (a) => isDemo(a) && a.status === 'resolved' && a.labels.job === undefined).length > 0,
      45_000,
      250,
      'both alerts resolved through Alertmanager',
    );
    assert.ok(alertsAt(receiver, '/direct', (a) => isDemo(a) && a.status === 'resolved').length > 0, 'direct webhook got the resolved send');
  });
});
