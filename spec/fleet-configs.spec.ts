import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { createObservability, type ObservabilityOptions } from '../lib/index';
import { ROOT } from './support/demo';
import { promtool, requireTool } from './support/tools';

const FLEET = path.join(ROOT, 'docs', 'fleet');
const read = (name: string): string => readFileSync(path.join(FLEET, name), 'utf8');
type Doc = Record<string, unknown> & { [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

function amtool(args: readonly string[]): { status: number; out: string } {
  const r = spawnSync(requireTool('amtool'), args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** The fleet options of docs/fleet/observability.config.cjs, with every backend URL set. */
function fleetOptions(): ObservabilityOptions {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const make = require(path.join(FLEET, 'observability.config.cjs')) as (env: NodeJS.ProcessEnv) => ObservabilityOptions;
  return make({
    ELASTICSEARCH_URL: 'http://127.0.0.1:9',
    LOKI_URL: 'http://127.0.0.1:9',
    ALERTMANAGER_URL: 'http://127.0.0.1:9',
    DEPLOY_ENV: 'test',
  });
}

describe('fleet guide example configs (docs/fleet)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'eo-fleet-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the app options are accepted by createObservability()', async () => {
    const obs = createObservability({ ...fleetOptions(), logging: { ...fleetOptions().logging, stdout: false } });
    try {
      assert.equal(obs.options.serviceName, 'shop');
      assert.equal(obs.options.cluster.enabled, true);
      assert.ok(obs.alerts.rules.length >= 3);
    } finally {
      await obs.shutdown();
    }
  });

  it('alert-rules.yml is the current export of app-alerts.yml, and promtool accepts it', async () => {
    const obs = createObservability({ serviceName: 'shop', logging: { stdout: false }, system: { enabled: false }, tracing: { enabled: false }, alerts: { file: path.join(FLEET, 'app-alerts.yml') } });
    try {
      assert.equal(read('alert-rules.yml'), obs.alerts.toPrometheusRules(), 'regenerate docs/fleet/alert-rules.yml with obs.alerts.toPrometheusRules() (see docs/fleet.md)');
    } finally {
      await obs.shutdown();
    }
    const r = promtool(['check', 'rules', path.join(FLEET, 'alert-rules.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('promtool check config accepts prometheus.yml (scrape jobs, rule file, Alertmanager)', () => {
    const r = promtool(['check', 'config', path.join(FLEET, 'prometheus.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /SUCCESS: \d+ rules found/);
  });

  it('promtool check config accepts prometheus-kubernetes.yml (relabelling checked with a static target)', () => {
    // Debian's Prometheus is built without Kubernetes service discovery, so its promtool rejects
    // kubernetes_sd_configs; the rest of the job (every relabel rule) is checked as written.
    const doc = parse(read('prometheus-kubernetes.yml')) as Doc;
    const job = doc.scrape_configs[0] as Doc;
    assert.deepEqual(job.kubernetes_sd_configs, [{ role: 'pod' }]);
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['10.0.0.7:8080'] }];
    writeFileSync(path.join(tmp, 'prometheus-kubernetes.yml'), stringify(doc));
    copyFileSync(path.join(FLEET, 'alert-rules.yml'), path.join(tmp, 'alert-rules.yml'));
    const r = promtool(['check', 'config', path.join(tmp, 'prometheus-kubernetes.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('the pod annotations, Service and ServiceMonitor agree with each other and with the relabel rules', () => {
    const docs = parseAllDocuments(read('kubernetes.yaml')).map((d) => d.toJS() as Doc);
    const deployment = docs.find((d) => d.kind === 'Deployment') as Doc;
    const service = docs.find((d) => d.kind === 'Service') as Doc;
    const monitor = docs.find((d) => d.kind === 'ServiceMonitor') as Doc;
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0];
    const annotations = pod.metadata.annotations as Record<string, string>;
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(annotations['prometheus.io/path'], '/metrics');
    assert.equal(Number(annotations['prometheus.io/port']), container.ports[0].containerPort);
    assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
    assert.equal(container.livenessProbe.httpGet.path, '/health/live');
    // Prometheus exposes annotation prometheus.io/x as __meta_kubernetes_pod_annotation_prometheus_io_x.
    const relabel = JSON.stringify((parse(read('prometheus-kubernetes.yml')) as Doc).scrape_configs[0].relabel_configs);
    for (const key of Object.keys(annotations)) {
      assert.ok(relabel.includes(`__meta_kubernetes_pod_annotation_${key.replace(/[./]/g, '_')}`), `relabel rules read ${key}`);
    }
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.deepEqual(monitor.spec.selector.matchLabels, service.metadata.labels);
    assert.equal(monitor.spec.endpoints[0].port, service.spec.ports[0].name);
    assert.equal(monitor.spec.endpoints[0].path, '/metrics');
    // The app exports to the collector's OTLP/HTTP port.
    const otlp = container.env.find((e: Doc) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT').value as string;
    const collector = parse(read('otel-collector.yaml')) as Doc;
    assert.equal(new URL(otlp).port, collector.receivers.otlp.protocols.http.endpoint.split(':')[1]);
  });

  it('every component the collector pipelines use is defined', () => {
    const c = parse(read('otel-collector.yaml')) as Doc;
    for (const [name, pipeline] of Object.entries(c.service.pipelines as Record<string, Doc>)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of (pipeline[kind] ?? []) as string[]) assert.ok(c[kind]?.[id] !== undefined, `pipeline ${name}: ${kind} "${id}" is defined`);
      }
    }
    assert.ok(c.service.pipelines.traces.processors.includes('batch'));
  });

  it('amtool check-config accepts alertmanager.yml, and critical alerts page', () => {
    const r = amtool(['check-config', path.join(FLEET, 'alertmanager.yml')]);
    assert.equal(r.status, 0, r.out);
    const route = (labels: string[]): string =>
      amtool(['config', 'routes', 'test', `--config.file=${path.join(FLEET, 'alertmanager.yml')}`, ...labels]).out.split('\n').filter((l) => !l.startsWith('Warning')).join('').trim();
    assert.equal(route(['severity=critical', 'alertname=ShopHighErrorRatio']), 'pager');
    assert.equal(route(['severity=warning', 'alertname=ShopNoTraffic']), 'team-shop');
  });
});
