// docs/fleet/grafana-dashboard.json against a real Prometheus scraping the demo app (built package).
//
// Grafana itself is not installed here, so the test does what Grafana does with the JSON before a
// query reaches Prometheus, in this documented way (docs/grafana.md, "How it is tested"):
// - `$datasource` is the Prometheus the test started;
// - each query variable (`label_values(metric{…}, label)`) is resolved in order through the series API,
//   after substituting the variables before it, and must find at least one value; the panels are then
//   queried with every variable at its default, "All" (its allValue `.*`);
// - `$__rate_interval` → `1m` (what Grafana picks for the 15 s scrape interval of docs/fleet/prometheus.yml),
//   `$__interval` → `15s`, `$__range` → `1h`.
// Every target of every panel must be valid PromQL and return at least one series with a finite value
// after demo traffic; the traffic includes what some panels need to be non-empty: /error hits (5xx),
// an aborted request, log lines the Loki stand-in rejects (dropped) or answers 503 to (retried), spans
// exported to an OTLP receiver, and the demo's SLO rules loaded from its own GET /alerts/rules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, startDemo, type DemoProcess } from './support/demo';
import { abortAfter, request, waitFor } from './support/http';
import { startLokiStandIn, type LokiStandIn } from './support/loki-standin';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver';
import { startPrometheus, type PrometheusServer, type PromVector } from './support/prometheus';

interface Target { refId: string; expr: string; exemplar?: boolean; datasource?: { type: string; uid: string } }
interface Panel { id: number; type: string; title: string; datasource?: { type: string; uid: string }; targets?: Target[]; panels?: Panel[] }
interface Variable { name: string; type: string; query: string | { query: string }; allValue?: string; includeAll?: boolean }
interface GrafanaDashboard { uid: string; title: string; schemaVersion: number; templating: { list: Variable[] }; panels: Panel[] }

const FILE = path.join(ROOT, 'docs', 'fleet', 'grafana-dashboard.json');
/** Grafana's built-in interval variables, as the test substitutes them. */
const BUILTIN_INTERVALS: Readonly<Record<string, string>> = { __rate_interval: '1m', __interval: '15s', __range: '1h' };
const LATENCY = /histogram_quantile/;

function substitute(expr: string, vars: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`no value for variable $${name} in: ${expr}`);
    return v;
  });
}

function allPanels(d: GrafanaDashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
}

describe('Grafana dashboard (docs/fleet/grafana-dashboard.json) on a real Prometheus', () => {
  const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as GrafanaDashboard;
  let loki: LokiStandIn;
  let otlp: OtlpReceiver;
  let demo: DemoProcess;
  let prom: PrometheusServer;

  before(async () => {
    loki = await startLokiStandIn();
    otlp = await startOtlpReceiver();
    // 503s first (retried lines), and the /error requests' log lines rejected for good (dropped).
    loki.failPushes(503);
    loki.rejectLines((line) => line.includes('demo failure'));
    demo = await startDemo({ LOKI_URL: loki.url, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
    const rules = await request(demo.url, '/alerts/rules');
    assert.equal(rules.status, 200);
    prom = await startPrometheus({
      targets: [`127.0.0.1:${demo.port}`],
      scrapeInterval: '1s',
      features: ['exemplar-storage'],
      files: { 'rules.yml': rules.body },
      extraConfig: 'rule_files:\n  - rules.yml',
    });
  });
  after(async () => {
    await prom?.stop();
    await demo?.stop();
    await otlp?.close();
    await loki?.stop();
  });

  it('is importable: a Prometheus data source variable used by every panel and target, unique ids, exemplars on every latency graph', () => {
    assert.equal(typeof dashboard.uid, 'string');
    assert.ok(dashboard.schemaVersion >= 36);
    assert.equal((dashboard as unknown as { id: unknown }).id, null, 'id null: Grafana assigns one on import');
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.deepEqual([ds?.name, ds?.query], ['datasource', 'prometheus']);
    const panels = allPanels(dashboard);
    assert.ok(panels.length >= 20);
    const ids = dashboard.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((c) => c.id)]);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of panels) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has targets`);
      for (const t of p.targets ?? []) {
        assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title} ${t.refId}`);
        if (p.type === 'timeseries' && LATENCY.test(t.expr)) assert.equal(t.exemplar, true, `exemplars on ${p.title} ${t.refId}`);
      }
    }
    assert.ok(panels.filter((p) => p.targets?.some((t) => t.exemplar)).length >= 4, 'latency panels with exemplars');
    const titles = panels.map((p) => p.title).join(' | ');
    for (const want of [/Request rate/, /Error ratio/, /p50/, /p95/, /p99/, /in flight/i, /Burn rate/, /Error budget/, /CPU/, /Memory/, /Event-loop/, /Disk/, /Log lines dropped/]) {
      assert.match(titles, want);
    }
  });

  it('after demo traffic every panel query is valid PromQL and returns data, and the latency panels return exemplars', async () => {
    // Steady traffic for as long as the checks run (the panels look at the last minute).
    let traffic = true;
    const driver = (async () => {
      for (let i = 0; traffic; i++) {
        const p = i % 5 === 4 ? '/error' : i % 5 === 3 ? `/api/orders/${i}` : i % 25 === 2 ? '/slow' : `/users/${i}`;
        await request(demo.url, p);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await request(demo.url, '/shops/3/items/9');
      await abortAfter(demo.url, '/slow', 20);
      await waitFor(() => loki.pushes.some((p) => p.status === 503), 20_000, 100, 'a log push answered 503');
      loki.failPushes(null);
      await otlp.waitForSpans((s) => s.length > 0, 20_000);
      await checkPanels();
    } finally {
      traffic = false;
      await driver;
    }
  });

  async function checkPanels(): Promise<void> {
    // Grafana's variables, resolved in order.
    const vars: Record<string, string> = { ...BUILTIN_INTERVALS, datasource: prom.url };
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const def = typeof v.query === 'string' ? v.query : v.query.query;
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(def);
      assert.ok(m, `variable ${v.name}: label_values(metric{…}, label), got ${def}`);
      const selector = substitute(m[1] as string, vars);
      const label = m[2] as string;
      const values = await waitFor(async () => {
        const series = await prom.api<Array<Record<string, string>>>(`/api/v1/series?match[]=${encodeURIComponent(selector)}`);
        const found = [...new Set(series.map((s) => s[label]).filter((x): x is string => x !== undefined))];
        return found.length > 0 ? found : undefined;
      }, 30_000, 500, `values of variable $${v.name} (${selector})`);
      if (v.name === 'route') for (const r of ['/users/:id', '/api/orders/:orderId', '/error']) assert.ok(values.includes(r), `route ${r} offered`);
      if (v.name === 'slo') assert.deepEqual(values, ['OrdersAvailability']);
      assert.equal(v.includeAll, true);
      vars[v.name] = v.allValue ?? '.*';
    }

    const targets = allPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t, promql: substitute(t.expr, vars) })));
    const problems = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const t of targets) {
        let result: PromVector;
        try {
          result = await prom.query(t.promql);
        } catch (err) {
          out.push(`${t.panel} ${t.refId}: invalid: ${(err as Error).message}`);
          continue;
        }
        if (!result.some((r) => Number.isFinite(Number(r.value[1])))) out.push(`${t.panel} ${t.refId}: no data (${result.length} series, all NaN or none): ${t.promql}`);
      }
      return out;
    };
    let last: string[] = [];
    await waitFor(async () => {
      last = await problems();
      if (last.some((p) => p.includes('invalid'))) return true; // no use waiting for a syntax error
      return last.length === 0;
    }, 60_000, 1000, 'every panel query to return data').catch(() => undefined);
    assert.deepEqual(last, []);

    // Exemplars: what Grafana asks Prometheus for when a target has `exemplar: true`.
    const now = Math.floor(Date.now() / 1000);
    for (const t of targets.filter((x) => x.exemplar)) {
      const found = await waitFor(async () => {
        const data = await prom.api<Array<{ exemplars: Array<{ labels: Record<string, string> }> }>>(
          `/api/v1/query_exemplars?query=${encodeURIComponent(t.promql)}&start=${now - 600}&end=${now + 60}`,
        );
        return data.flatMap((s) => s.exemplars).find((e) => /^[0-9a-f]{32}$/.test(e.labels.trace_id ?? ''));
      }, 20_000, 500, `exemplars of ${t.panel} ${t.refId}`);
      assert.ok(found);
    }
  }
});
