import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requireTool } from './tools';
import { waitFor } from './http';
import { stopChild } from './process';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A real Prometheus server started for a test. */
export interface PrometheusServer {
  readonly url: string;
  readonly dir: string;
  query(promql: string): Promise<PromVector>;
  api<T = unknown>(pathAndQuery: string): Promise<T>;
  stop(): Promise<void>;
}

/** Result vector of an instant query. */
export type PromVector = Array<{ metric: Record<string, string>; value: [number, string] }>;

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  /** Scrape targets as host:port. */
  readonly targets: readonly string[];
  readonly metricsPath?: string;
  readonly scrapeInterval?: string;
  /** Extra top-level YAML appended to the config (rule_files, alerting...). */
  readonly extraConfig?: string;
  /** Feature flags, e.g. ['exemplar-storage']. */
  readonly features?: readonly string[];
  /** Files to write into the data dir before start: name -> content. */
  readonly files?: Readonly<Record<string, string>>;
  /** Extra scrape-config YAML lines for the job. */
  readonly jobExtra?: string;
}

/** Start Prometheus on 127.0.0.1 with a throwaway data dir; resolves once /-/ready answers. */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const bin = requireTool('prometheus');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-prom-'));
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(path.join(dir, name), content);
  const config = [
    'global:',
    `  scrape_interval: ${opts.scrapeInterval ?? '1s'}`,
    `  evaluation_interval: ${opts.scrapeInterval ?? '1s'}`,
    'scrape_configs:',
    '  - job_name: app',
    `    metrics_path: ${opts.metricsPath ?? '/metrics'}`,
    ...(opts.jobExtra ? opts.jobExtra.split('\n').map((l) => `    ${l}`) : []),
    '    static_configs:',
    `      - targets: [${opts.targets.map((t) => `'${t}'`).join(', ')}]`,
    opts.extraConfig ?? '',
  ].join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const args = [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    ...(opts.features?.length ? [`--enable-feature=${opts.features.join(',')}`] : []),
  ];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      const r = await fetch(`${url}/-/ready`);
      return r.ok;
    }, 30_000, 200, 'prometheus ready');
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${String(err)}\n${stderr}`);
  }
  const api = async <T>(p: string): Promise<T> => {
    const r = await fetch(`${url}${p}`);
    const j = (await r.json()) as { status: string; data: T; error?: string };
    if (j.status !== 'success') throw new Error(`prometheus API ${p}: ${j.error ?? r.status}`);
    return j.data;
  };
  return {
    url,
    dir,
    api,
    async query(promql: string): Promise<PromVector> {
      const data = await api<{ result: PromVector }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
      return data.result;
    },
    async stop(): Promise<void> {
      await stopChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
