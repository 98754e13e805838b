import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listen, waitFor } from './http';
import { freePort } from './prometheus';
import { requireTool } from './tools';
import { stopChild } from './process';

/** A real Alertmanager started for a test (Debian binary `prometheus-alertmanager`). */
export interface AlertmanagerServer {
  readonly url: string;
  /** host:port, for Prometheus's `alerting.alertmanagers` targets. */
  readonly address: string;
  /** Alerts Alertmanager currently holds (`GET /api/v2/alerts`). */
  alerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; status: { state: string }; startsAt: string; endsAt: string; generatorURL?: string }>>;
  stop(): Promise<void>;
}

/**
 * Start Alertmanager on 127.0.0.1 with its own storage dir, the cluster port disabled
 * (`--cluster.listen-address=` empty: otherwise it listens on all interfaces), routing every
 * alert to `webhookUrl` with 1 s group timings; resolves once `/-/ready` answers.
 */
export async function startAlertmanager(webhookUrl: string): Promise<AlertmanagerServer> {
  const bin = requireTool('prometheus-alertmanager', ['/usr/bin/prometheus-alertmanager']);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eo-am-'));
  const config = [
    'route:',
    '  receiver: hook',
    "  group_by: ['alertname']",
    '  group_wait: 1s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: hook',
    '    webhook_configs:',
    `      - url: '${webhookUrl}'`,
    '        send_resolved: true',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`alertmanager exited: ${stderr}`);
      return (await fetch(`${url}/-/ready`)).ok;
    }, 30_000, 200, 'alertmanager ready');
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${String(err)}\n${stderr}`);
  }
  return {
    url,
    address: `127.0.0.1:${port}`,
    async alerts() {
      const r = await fetch(`${url}/api/v2/alerts`);
      return (await r.json()) as Awaited<ReturnType<AlertmanagerServer['alerts']>>;
    },
    async stop() {
      await stopChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A webhook receiver stand-in: records every JSON body POSTed to it, by path, with its `Authorization`. */
export interface WebhookReceiver {
  readonly url: string;
  readonly received: Array<{ path: string; body: unknown; authorization: string | undefined }>;
  /** Answer the next `n` requests with `status` instead of 200 (to simulate an outage). */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

/** Start a {@link WebhookReceiver} on 127.0.0.1:0. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Array<{ path: string; body: unknown; authorization: string | undefined }> = [];
  let failures = 0;
  let failStatus = 503;
  const srv = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.statusCode = failStatus;
        res.end('unavailable');
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({ path: req.url ?? '/', body: text ? JSON.parse(text) : undefined, authorization: req.headers.authorization });
      res.end('ok');
    });
  });
  return {
    url: srv.url,
    received,
    failNext(n: number, status = 503) {
      failures = n;
      failStatus = status;
    },
    close: () => srv.close(),
  };
}
