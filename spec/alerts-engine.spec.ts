// obs.alerts in-process: the state machine (pending → firing → resolved with `for`), flapping,
// notifiers (function, webhook, Alertmanager v2) with retries, GET /alerts, and request-based rules.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import express from 'express';
import { createObservability, type AlertNotification, type AlertsOptions, type Observability } from '../lib/index';
import { badAndAll, DURATION_METRIC, RegistryReader } from '../lib/alerts/series';
import { MetricsCollector } from '../lib/metrics/collector';
import { createRegistry } from '../lib/metrics/registry';
import { startWebhookReceiver, type WebhookReceiver } from './support/alertmanager';
import { listen, request, waitFor, type Listening } from './support/http';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const instances: Observability[] = [];
const servers: Array<Listening | WebhookReceiver> = [];
after(async () => {
  await Promise.all(instances.map((o) => o.shutdown()));
  await Promise.all(servers.map((s) => s.close()));
});

function makeObs(alerts: AlertsOptions, buckets?: number[]): Observability {
  const obs = createObservability({
    serviceName: 'alerts-test',
    logging: { stdout: false },
    system: { enabled: false },
    dashboard: { enabled: false },
    metrics: buckets ? { buckets } : {},
    alerts: { interval: '1h', ...alerts },
  });
  instances.push(obs);
  return obs;
}

async function serve(obs: Observability): Promise<Listening> {
  const app = express();
  app.use(obs.middleware);
  app.use(obs.router);
  app.get('/ok', (_req, res) => void res.json({ ok: true }));
  app.get('/fail', () => {
    throw new Error('boom');
  });
  app.get('/slow', (_req, res) => void setTimeout(() => res.json({ slow: true }), 120));
  app.use(obs.errorHandler);
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).end('failed'));
  const srv = await listen(app);
  servers.push(srv);
  return srv;
}

function ruleState(obs: Observability, name: string) {
  const r = obs.alerts.status().find((s) => s.name === name);
  assert.ok(r, `rule ${name} exists`);
  return r;
}

describe('alert state machine', () => {

  it("reads a histogram's _count, _sum and _bucket series from its counts, as its exposition gives them", async () => {
    const registry = createRegistry();
    const hist = new MetricsCollector(registry).histogram('work_seconds', 'Work.', ['route', 'status_code'], [0.1, 1]);
    for (const [route, status, v] of [['/a', '200', 0.0625], ['/a', '200', 0.5], ['/a', '500', 3], ['/b', '200', 0.25]] as const) hist.observe({ route, status_code: status }, v);
    const exposed = (await hist.get()).values;
    const reader = new RegistryReader(registry);
    const plain = (vs: readonly { labels: object; value: number }[] | undefined) => (vs ?? []).map((v) => JSON.stringify([Object.entries(v.labels).sort(), v.value])).sort();
    const want = (suffix: string) => plain(exposed.filter((v) => (v as { metricName?: string }).metricName === `work_seconds${suffix}`));
    for (const suffix of ['_count', '_sum', '_bucket']) {
      reader.begin();
      assert.deepEqual(plain(await reader.values(`work_seconds${suffix}`)), want(suffix), suffix);
    }
    assert.deepEqual(plain(await reader.values('work_seconds')), want('_count'), 'the histogram itself reads as its _count');
    assert.equal(want('_bucket').length, 9);
  });

  it('counts bad and all requests from the duration histogram: 5xx, or slower than a latency bound', async () => {
    const registry = createRegistry();
    const hist = new MetricsCollector(registry).histogram(DURATION_METRIC, 'Durations.', ['method', 'route', 'status_code'], [0.05, 0.1, 0.2, 0.5]);
    const seen: [string, string, number][] = [['/a', '200', 0.03], ['/a', '200', 0.07], ['/a', '200', 0.3], ['/a', '500', 0.01], ['/b', '200', 0.15]];
    for (const [route, status, v] of seen) hist.observe({ method: 'GET', route, status_code: status }, v);
    const reader = new RegistryReader(registry);
    const of = async (route: string | undefined, latency: number | undefined) => Object.fromEntries(await badAndAll(reader, route, latency));
    assert.deepEqual(await of(undefined, undefined), { bad: 1, all: 5 }, '5xx are bad');
    assert.deepEqual(await of('/a', 0.1), { bad: 1, all: 4 }, 'on /a, one request slower than 100 ms');
    assert.deepEqual(await of(undefined, 0.2), { bad: 1, all: 5 }, 'one request slower than 200 ms');
    assert.deepEqual(await of(undefined, 0.3), { bad: 5, all: 5 }, 'a latency that is no bound: nothing counts as fast enough');
    assert.deepEqual(await of('/none', undefined), { bad: 0, all: 0 });
  });
  it('goes pending only above the threshold, fires only after `for`, resolves when it clears', async () => {
    const seen: AlertNotification[] = [];
    const obs = makeObs({ notifiers: [(alerts) => void seen.push(...alerts)] });
    const g = obs.metrics.gauge('queue_depth', 'Jobs waiting.');
    obs.alerts.add({
      rules: [{ name: 'QueueDeep', kind: 'gauge', metric: 'queue_depth', threshold: 10, for: '1s', severity: 'page', labels: { team: 'jobs' }, annotations: { summary: 'depth {{ $value }} for {{ $labels.team }}' } }],
    });
    const srv = await serve(obs);
    g.set(5);
    await obs.alerts.evaluate();
    assert.equal(ruleState(obs, 'QueueDeep').state, 'inactive');
    assert.equal(ruleState(obs, 'QueueDeep').value, 5);

    g.set(15);
    await obs.alerts.evaluate();
    const pending = ruleState(obs, 'QueueDeep');
    assert.equal(pending.state, 'pending');
    assert.equal(pending.value, 15);
    await sleep(400);
    await obs.alerts.evaluate();
    assert.equal(ruleState(obs, 'QueueDeep').state, 'pending', 'not firing before `for` elapsed');
    assert.equal(seen.length, 0, 'pending alerts are not notified');

    await sleep(700);
    await obs.alerts.evaluate();
    const firing = ruleState(obs, 'QueueDeep');
    assert.equal(firing.state, 'firing');
    await waitFor(() => seen.length === 1, 2000, 20, 'firing notification');
    const n = seen[0] as AlertNotification;
    assert.equal(n.status, 'firing');
    assert.deepEqual(n.labels, { alertname: 'QueueDeep', severity: 'page', team: 'jobs' });
    assert.equal(n.annotations.summary, 'depth 15 for jobs');
    assert.ok(Date.parse(n.endsAt) > Date.now(), 'firing alerts carry a future endsAt');

    const body = JSON.parse((await request(srv.url, '/alerts')).body) as { firing: number; rules: Array<{ name: string; state: string; value: number; since: string; alerts: unknown[] }> };
    const shown = body.rules.find((r) => r.name === 'QueueDeep');
    assert.equal(body.firing, 1);
    assert.equal(shown?.state, 'firing');
    assert.equal(shown?.value, 15);
    assert.ok(Date.parse(shown?.since ?? '') <= Date.now());

    await obs.alerts.evaluate();
    g.set(3);
    await obs.alerts.evaluate();
    assert.equal(ruleState(obs, 'QueueDeep').state, 'resolved');
    await waitFor(() => seen.length === 2, 2000, 20, 'resolved notification');
    assert.equal(seen[1]?.status, 'resolved');
    assert.ok(Date.parse(seen[1]?.endsAt ?? '') <= Date.now());
    assert.equal(seen.length, 2, 'no repeat notification while nothing changed');
  });

  it('flapping inputs do not spam notifications (`for` and `keepFiringFor`)', async () => {
    const seen: AlertNotification[] = [];
    const obs = makeObs({ notifiers: [(alerts) => void seen.push(...alerts)] });
    const g = obs.metrics.gauge('flappy', 'Goes up and down.');
    obs.alerts.add({
      rules: [
        { name: 'FlapFor', kind: 'gauge', metric: 'flappy', threshold: 10, for: '1s' },
        { name: 'FlapKeep', kind: 'gauge', metric: 'flappy', threshold: 10, keepFiringFor: '1m' },
      ],
    });
    for (let i = 0; i < 12; i++) {
      g.set(i % 2 === 0 ? 15 : 5);
      await obs.alerts.evaluate();
      await sleep(120);
    }
    await sleep(100);
    assert.equal(seen.filter((a) => a.labels.alertname === 'FlapFor').length, 0, 'never held for 1s: never notified');
    const keep = seen.filter((a) => a.labels.alertname === 'FlapKeep');
    assert.equal(keep.length, 1, 'one firing notification, no resolve/fire churn');
    assert.equal(keep[0]?.status, 'firing');
    assert.equal(ruleState(obs, 'FlapKeep').state, 'firing');
  });
});

describe('rules read the registry as Prometheus reads its exposition', () => {
  it('matchers and alert labels see metrics.defaultLabels, which the exposition adds to every series', async () => {
    const obs = createObservability({
      serviceName: 'alerts-labels',
      logging: { stdout: false },
      system: { enabled: false },
      dashboard: { enabled: false },
      metrics: { defaultLabels: { region: 'eu' } },
      alerts: { interval: '1h' },
    });
    instances.push(obs);
    obs.metrics.gauge('queue_depth', 'Jobs waiting.', ['queue']).set({ queue: 'a' }, 10);
    obs.alerts.add({ rules: [{ name: 'QueueDeep', kind: 'gauge', metric: 'queue_depth', matchers: { region: 'eu' }, threshold: 5 }] });
    await obs.alerts.evaluate();
    const state = ruleState(obs, 'QueueDeep');
    assert.equal(state.state, 'firing');
    assert.equal(state.alerts[0]?.labels.region, 'eu', 'the alert carries the label Prometheus would see');
    assert.match(await obs.registry.metrics(), /^queue_depth\{queue="a",region="eu"\} 10$/m);
  });

  it('rate: a counter series that goes away is not a reset of the sum (rates are per series, then summed)', async () => {
    const obs = makeObs({});
    const jobs = obs.metrics.counter('jobs_done_total', 'Jobs done.', ['queue']);
    jobs.inc({ queue: 'a' }, 500);
    jobs.inc({ queue: 'b' }, 500);
    obs.alerts.add({ rules: [{ name: 'JobsBusy', kind: 'rate', metric: 'jobs_done_total', threshold: 1, window: '1m' }] });
    await obs.alerts.evaluate();
    await sleep(50);
    jobs.remove({ queue: 'b' });
    await obs.alerts.evaluate();
    const state = ruleState(obs, 'JobsBusy');
    assert.equal(state.state, 'inactive');
    assert.equal(state.value, 0);
  });
});

describe('rule sets are validated as a whole', () => {
  it('add() refuses duplicates within one call; alerts.interval past the timer limit and duplicate SLOs fail naming the option', () => {
    const obs = makeObs({});
    obs.metrics.gauge('dup_gauge', 'A gauge.');
    const dup = { name: 'Dup', kind: 'gauge' as const, metric: 'dup_gauge', threshold: 1 };
    assert.throws(() => obs.alerts.add({ rules: [dup, dup] }), /alert "Dup" is already defined with the same labels/);
    assert.throws(() => obs.alerts.add({ slos: [{ name: 'S', objective: 0.99 }, { name: 'S', objective: 0.99 }] }), /SLO "S" is already defined/);
    assert.deepEqual(obs.alerts.status().map((r) => r.name).filter((n) => n === 'Dup' || n.startsWith('S')), [], 'nothing of a refused call is installed');
    assert.throws(
      () => createObservability({ logging: { stdout: false }, system: { enabled: false }, alerts: { interval: '30d' } }),
      /option "alerts\.interval" must be at most 2147483647 ms/,
    );
    // A duration only compared, never a timer, may be longer.
    const long = createObservability({ logging: { stdout: false }, system: { enabled: false }, alerts: { interval: '1h', notifiers: [{ type: 'webhook', url: 'http://127.0.0.1:9/h', repeatInterval: '30d' }] } });
    void long.shutdown();
    assert.throws(
      () => createObservability({ logging: { stdout: false }, system: { enabled: false }, alerts: { slos: [{ name: 'S', objective: 0.99 }, { name: 'S', objective: 0.999 }] } }),
      /option "alerts\.slos" define two SLOs with the same name/,
    );
  });
});

describe('notifiers', () => {
  it('retries a webhook that is down, then delivers an Alertmanager webhook payload', async () => {
    const hook = await startWebhookReceiver();
    servers.push(hook);
    hook.failNext(2);
    const obs = makeObs({ notifiers: [{ type: 'webhook', url: `${hook.url}/hook` }], retries: 3 });
    const g = obs.metrics.gauge('webhook_gauge', 'x');
    obs.alerts.add({ rules: [{ name: 'Hooked', kind: 'gauge', metric: 'webhook_gauge', threshold: 1, annotations: { summary: '{{ $value }}' } }] });
    g.set(2);
    await obs.alerts.evaluate();
    await waitFor(() => hook.received.length === 1, 8000, 50, 'webhook delivered after retries');
    const body = hook.received[0]?.body as Record<string, unknown> & { alerts: Array<Record<string, unknown>> };
    assert.equal(body.version, '4');
    assert.equal(body.status, 'firing');
    assert.equal(body.receiver, 'alerts-test');
    assert.deepEqual(body.groupLabels, { alertname: 'Hooked' });
    assert.equal(body.alerts[0]?.status, 'firing');
    assert.deepEqual(body.alerts[0]?.labels, { alertname: 'Hooked', severity: 'warning' });
    assert.ok(typeof body.alerts[0]?.fingerprint === 'string' && typeof body.alerts[0]?.generatorURL === 'string');
  });

  it('a dead notifier is reported, never thrown', async () => {
    const dead = await listen((_req, res) => void res.end());
    const deadUrl = dead.url;
    await dead.close();
    const obs = makeObs({ notifiers: [{ type: 'alertmanager', url: deadUrl }], retries: 1 });
    const srv = await serve(obs);
    const g = obs.metrics.gauge('dead_gauge', 'x');
    obs.alerts.add({ rules: [{ name: 'Nobody', kind: 'gauge', metric: 'dead_gauge', threshold: 1 }] });
    g.set(2);
    await obs.alerts.evaluate();
    assert.equal(ruleState(obs, 'Nobody').state, 'firing');
    await waitFor(async () => (await request(srv.url, '/metrics')).body.includes('observability_internal_errors_total{component="alerts:alertmanager"}'), 8000, 100, 'failure counted');
  });

  it('Alertmanager v2: POST /api/v2/alerts with startsAt/endsAt/generatorURL, re-sent at the cadence, resolved on clear', async () => {
    const am = await startWebhookReceiver();
    servers.push(am);
    const obs = makeObs({ notifiers: [{ type: 'alertmanager', url: am.url }], resendInterval: '200ms', generatorUrl: 'http://shop.example/alerts' });
    const g = obs.metrics.gauge('am_gauge', 'x');
    obs.alerts.add({ rules: [{ name: 'ToAm', kind: 'gauge', metric: 'am_gauge', threshold: 1 }] });
    g.set(2);
    await obs.alerts.evaluate();
    await waitFor(() => am.received.length === 1, 3000, 20, 'first post');
    assert.equal(am.received[0]?.path, '/api/v2/alerts');
    const [first] = am.received[0]?.body as Array<Record<string, string>>;
    assert.deepEqual(Object.keys(first ?? {}).sort(), ['annotations', 'endsAt', 'generatorURL', 'labels', 'startsAt']);
    assert.equal(first?.generatorURL, 'http://shop.example/alerts');
    assert.ok(Date.parse(first?.endsAt ?? '') > Date.now());
    await obs.alerts.evaluate();
    assert.equal(am.received.length, 1, 'no re-send before the resend interval');
    await sleep(250);
    await obs.alerts.evaluate();
    await waitFor(() => am.received.length === 2, 3000, 20, 're-send');
    g.set(0);
    await obs.alerts.evaluate();
    await waitFor(() => am.received.length === 3, 3000, 20, 'resolved post');
    const [resolved] = am.received[2]?.body as Array<Record<string, string>>;
    assert.ok(Date.parse(resolved?.endsAt ?? '') <= Date.now(), 'resolved alerts end now');
  });
});

describe('request rules in-process', () => {
  it('error ratio, latency quantile, counter rate, absence and SLO burn rate from real requests', async () => {
    const obs = makeObs(
      {
        notifiers: [],
        rules: [
          { name: 'Errors', kind: 'errorRatio', threshold: 0.3, window: '1m', annotations: { summary: '{{ $value | humanizePercentage }}' } },
          { name: 'SlowMedian', kind: 'latency', route: '/slow', quantile: 0.5, threshold: 0.1, window: '1m' },
          { name: 'OkAbsent', kind: 'absence', route: '/never', window: '1s' },
        ],
        slos: [{ name: 'Ok', objective: 0.9, burnRates: [{ long: '1m', short: '30s', factor: 1, severity: 'page' }] }],
      },
      [0.05, 0.1, 0.2, 0.5],
    );
    const jobs = obs.metrics.counter('jobs_total', 'Jobs done.', ['queue']);
    obs.alerts.add({ rules: [{ name: 'JobsBusy', kind: 'rate', metric: 'jobs_total', by: ['queue'], threshold: 0, window: '1m' }] });
    const srv = await serve(obs);
    await obs.alerts.evaluate();
    for (let i = 0; i < 4; i++) {
      assert.equal((await request(srv.url, '/ok')).status, 200);
      assert.equal((await request(srv.url, '/fail')).status, 500);
    }
    await Promise.all([1, 2, 3].map(() => request(srv.url, '/slow')));
    jobs.inc({ queue: 'mail' }, 10);
    await sleep(1100);
    await obs.alerts.evaluate();
    const errors = ruleState(obs, 'Errors');
    assert.equal(errors.state, 'firing');
    assert.ok(Math.abs((errors.value ?? 0) - 4 / 11) < 1e-9, `ratio ${errors.value}`);
    assert.equal(errors.alerts[0]?.annotations.summary, '36.36%');
    const slow = ruleState(obs, 'SlowMedian');
    assert.ok(Math.abs((slow.value ?? 0) - 0.15) < 1e-9, `median ${slow.value}`);
    assert.equal(slow.state, 'firing');
    const busy = ruleState(obs, 'JobsBusy');
    assert.equal(busy.state, 'firing');
    assert.deepEqual(busy.alerts[0]?.labels, { queue: 'mail', alertname: 'JobsBusy', severity: 'warning' });
    assert.ok((busy.value ?? 0) > 0 && (busy.value ?? 0) <= 10);
    const absent = ruleState(obs, 'OkAbsent');
    assert.equal(absent.state, 'firing');
    assert.equal(absent.value, 0);
    const burn = ruleState(obs, 'OkErrorBudgetBurn');
    assert.equal(burn.state, 'firing');
    assert.deepEqual(burn.alerts[0]?.labels, { slo: 'Ok', long_window: '1m', alertname: 'OkErrorBudgetBurn', severity: 'page' });
    const metrics = (await request(srv.url, '/metrics')).body;
    const m = /observability_slo_error_budget_remaining_ratio\{slo="Ok"\} (\S+)/.exec(metrics);
    assert.ok(m, 'budget gauge exported');
    assert.ok(Math.abs(Number(m[1]) - (1 - 4 / 11 / 0.1)) < 1e-6, `budget ${m[1]}`);
    const yaml = await request(srv.url, '/alerts/rules');
    assert.equal(yaml.status, 200);
    assert.match(String(yaml.headers['content-type']), /yaml/);
    assert.match(yaml.body, /alert: JobsBusy/);
  });
});
