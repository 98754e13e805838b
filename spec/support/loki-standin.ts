/**
 * A stand-in for Grafana Loki's push API (Loki cannot be installed here; Debian's `loki`
 * package is unrelated genetics software). It follows the documented
 * `POST /loki/api/v1/push` JSON form (https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs):
 * `{"streams":[{"stream":{label:value},"values":[["<unix ns as a string>","<line>"], ...]}]}`,
 * `204 No Content` on success, `400` for invalid entries (Loki stores the valid entries of
 * the request and reports the invalid ones: not retryable), `429` when rate limited
 * (retryable). Every accepted entry is recorded, duplicates included, so tests can prove
 * that nothing arrived twice. It can go down (connections reset, the port kept) and come back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer } from './loopback-server';

/** One stored entry. */
export interface LokiEntryRecord {
  readonly labels: Readonly<Record<string, string>>;
  /** Canonical `{a="1", b="2"}` form of the labels. */
  readonly stream: string;
  readonly ts: string;
  readonly line: string;
}

/** The stand-in's controls and state. */
export interface LokiStandIn {
  readonly url: string;
  readonly port: number;
  /** Entries stored, in arrival order. */
  readonly entries: LokiEntryRecord[];
  /** Push requests received (status answered). */
  readonly pushes: Array<{ status: number; contentType: string | undefined }>;
  /** Answer every push with `status` (429, 503...) until cleared with `null`. */
  failPushes(status: number | null): void;
  /** Reject entries whose line matches (400, Loki-style: the rest of the request is stored). */
  rejectLines(fn: ((line: string) => boolean) | null): void;
  /** Stop listening and forget open connections (the end of a test). */
  stop(): Promise<void>;
  /** An outage: open connections are destroyed and new ones reset, the port kept. */
  refuse(): Promise<void>;
  /** Accept again, keeping what was stored (Loki's storage survives a restart). */
  reopen(): Promise<void>;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function canonical(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

/** Start the stand-in on 127.0.0.1 (ephemeral port). */
export async function startLokiStandIn(): Promise<LokiStandIn> {
  const entries: LokiEntryRecord[] = [];
  const pushes: Array<{ status: number; contentType: string | undefined }> = [];
  let failStatus: number | null = null;
  let reject: ((line: string) => boolean) | null = null;

  function answer(res: ServerResponse, status: number, text = ''): void {
    res.writeHead(status, text ? { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) } : {});
    res.end(text);
  }

  function push(req: IncomingMessage, res: ServerResponse, body: string): void {
    const record = { status: 0, contentType: req.headers['content-type'] };
    pushes.push(record);
    const done = (status: number, text = ''): void => {
      record.status = status;
      answer(res, status, text);
    };
    if (failStatus !== null) return done(failStatus, failStatus === 429 ? 'Ingestion rate limit exceeded (stand-in)\n' : 'stand-in failure\n');
    if ((req.headers['content-type'] ?? '').split(';')[0]?.trim() !== 'application/json') {
      return done(400, 'this stand-in only speaks the JSON push format (Content-Type: application/json)\n');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      return done(400, `loghttp.PushRequest: ${(err as Error).message}\n`);
    }
    const streams = (parsed as { streams?: unknown }).streams;
    if (!Array.isArray(streams)) return done(400, 'loghttp.PushRequest: streams must be an array\n');
    // Validate the whole request's shape first (a malformed body stores nothing).
    for (const s of streams as Array<{ stream?: unknown; values?: unknown }>) {
      const labels = s.stream as Record<string, unknown> | undefined;
      if (!labels || typeof labels !== 'object' || Object.keys(labels).length === 0) return done(400, 'error at least one label pair is required per stream\n');
      for (const [k, v] of Object.entries(labels)) {
        if (!LABEL_NAME.test(k) || typeof v !== 'string') return done(400, `error parsing labels: invalid label ${k}\n`);
      }
      if (!Array.isArray(s.values)) return done(400, 'loghttp.PushRequest: values must be an array\n');
      for (const v of s.values as unknown[]) {
        if (!Array.isArray(v) || (v.length !== 2 && v.length !== 3) || typeof v[0] !== 'string' || !/^\d{1,19}$/.test(v[0]) || typeof v[1] !== 'string') {
          return done(400, 'loghttp.PushRequest: each value must be ["<unix epoch in nanoseconds as a string>", "<log line>"]\n');
        }
      }
    }
    const invalid: string[] = [];
    for (const s of streams as Array<{ stream: Record<string, string>; values: [string, string][] }>) {
      const stream = canonical(s.stream);
      for (const [ts, line] of s.values) {
        if (reject?.(line)) invalid.push(`entry for stream '${stream}' has an invalid line (stand-in rule)`);
        else entries.push({ labels: s.stream, stream, ts, line });
      }
    }
    if (invalid.length > 0) return done(400, `${invalid.length} errors like: ${invalid[0]}\n`);
    done(204);
  }

  const srv = await startLoopbackServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'POST' && path === '/loki/api/v1/push') return push(req, res, Buffer.concat(chunks).toString('utf8'));
      if (req.method === 'GET' && path === '/ready') return answer(res, 200, 'ready\n');
      answer(res, 404, '404 page not found\n');
    });
  });
  const { port } = srv;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    entries,
    pushes,
    failPushes: (s) => void (failStatus = s),
    rejectLines: (fn) => void (reject = fn),
    stop: () => srv.stop(),
    refuse: () => srv.refuse(),
    reopen: () => srv.reopen(),
  };
}
