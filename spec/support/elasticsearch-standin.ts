/**
 * A stand-in for Elasticsearch's `_bulk` API (no Elasticsearch or OpenSearch server can be
 * installed here). It follows the documented protocol
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html):
 * NDJSON body (`Content-Type: application/x-ndjson`), terminated by a newline, strict
 * action/source pairs (`index`/`create`/`update` carry a source line, `delete` does not),
 * one result per action in order, `errors: true` when any action failed, `create` on an
 * existing `_id` answered `409 version_conflict_engine_exception`. Malformed bodies fail the
 * whole request with 400 as Elasticsearch does. Failure modes for tests: refuse connections
 * (reset while the port stays taken), hang (index but never answer), answer 429/503 for a while,
 * and per-item 429/400 rejections. The `filter_path` query parameter (a common option of every
 * Elasticsearch REST API: comma-separated dot paths, `*` for one field name, `**` for any depth)
 * filters successful responses; error responses are never filtered, as in Elasticsearch.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import https from 'node:https';
import { startLoopbackServer } from './loopback-server';

/** A per-item failure the stand-in should answer instead of indexing. */
export interface ItemFailure {
  readonly status: number;
  readonly type: string;
  readonly reason: string;
}

/** One received `_bulk` request. */
export interface BulkRequestRecord {
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly actions: number;
  readonly status: number;
  /** The request body as received (the NDJSON bytes). */
  readonly body: string;
  /** The request's `filter_path` parameter, if any. */
  readonly filterPath: string | null;
}

/** The stand-in's controls and state. */
export interface ElasticsearchStandIn {
  readonly url: string;
  readonly port: number;
  /** Documents stored per index, by `_id`. */
  readonly indices: Map<string, Map<string, Record<string, unknown>>>;
  /** Every `_bulk` request answered (or hung). */
  readonly requests: BulkRequestRecord[];
  /** All stored documents (every index). */
  documents(): Record<string, unknown>[];
  /** Answer every request with `status` (429, 503...) until cleared with `null`. */
  failRequests(status: number | null): void;
  /** Index the batch but never answer, until cleared. */
  hang(on: boolean): void;
  /** Take `ms` to process every request from now on (a cluster under load answers bulks in tens of ms); 0 clears it. */
  latency(ms: number): void;
  /** Decide a per-item failure for a document (called for every create/index action). */
  itemFailures(fn: ((doc: Record<string, unknown>, id: string | undefined) => ItemFailure | undefined) | null): void;
  /** An outage: connections are reset (the port stays taken) until {@link ElasticsearchStandIn.reopen}. */
  refuse(): Promise<void>;
  /** Accept connections again. */
  reopen(): Promise<void>;
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;
const ACTIONS = new Set(['index', 'create', 'update', 'delete']);

class BulkError extends Error {
  constructor(readonly status: number, readonly type: string, reason: string) {
    super(reason);
  }
}

/**
 * `value` reduced to what `paths` (split on dots) include, or undefined when nothing matches: objects
 * keep matching fields, arrays keep the elements that still hold something, `*` matches one field
 * name and `**` any number of levels (Elasticsearch's `filter_path`, inclusive form).
 */
export function filterPath(value: unknown, paths: readonly (readonly string[])[]): unknown {
  // `**` may also match zero levels: try what follows it here as well.
  const here = paths.flatMap((p) => (p[0] === '**' ? [p, p.slice(1)] : [p]));
  if (here.some((p) => p.length === 0)) return value;
  if (Array.isArray(value)) {
    const kept = value.map((v) => filterPath(v, here)).filter((v) => v !== undefined);
    return kept.length > 0 ? kept : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const out: Json = {};
  for (const [key, v] of Object.entries(value as Json)) {
    const next = here.flatMap((p) => (p[0] === '**' ? [p] : p[0] === '*' || p[0] === key ? [p.slice(1)] : []));
    if (next.length === 0) continue;
    const kept = filterPath(v, next);
    if (kept !== undefined) out[key] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function parseLine(line: string, n: number): Json {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new BulkError(400, 'x_content_parse_exception', `[${n}:1] ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BulkError(400, 'illegal_argument_exception', `Malformed line [${n}]: expected an object`);
  return v as Json;
}

/** Start the stand-in on 127.0.0.1 (ephemeral port); over HTTPS with `tls` (a PEM key and certificate). */
export async function startElasticsearchStandIn(tls?: { readonly key: string; readonly cert: string }): Promise<ElasticsearchStandIn> {
  const indices = new Map<string, Map<string, Json>>();
  const requests: BulkRequestRecord[] = [];
  let failStatus: number | null = null;
  let hanging = false;
  let latencyMs = 0;
  let itemFailure: ((doc: Json, id: string | undefined) => ItemFailure | undefined) | null = null;
  let autoId = 0;

  function bulk(body: string, urlIndex: string | undefined): { errors: boolean; items: Json[] } {
    if (!body.endsWith('\n')) throw new BulkError(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]');
    const lines = body.slice(0, -1).split('\n');
    const items: Json[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      const action = parseLine(lines[i] as string, i + 1);
      const keys = Object.keys(action);
      if (keys.length !== 1 || !ACTIONS.has(keys[0] as string)) {
        throw new BulkError(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but found [${keys.join(', ')}]`);
      }
      const op = keys[0] as string;
      const meta = action[op] as Json;
      const index = (meta._index as string | undefined) ?? urlIndex;
      if (!index) throw new BulkError(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;');
      let id = meta._id as string | undefined;
      if (op === 'delete') {
        indices.get(index)?.delete(String(id));
        items.push({ delete: { _index: index, _id: id, status: 200, result: 'deleted' } });
        continue;
      }
      i++;
      if (i >= lines.length) throw new BulkError(400, 'illegal_argument_exception', `Validation Failed: source is missing for action on line [${i}]`);
      const source = parseLine(lines[i] as string, i + 1);
      const failure = itemFailure?.(source, id);
      if (failure) {
        errors = true;
        items.push({ [op]: { _index: index, _id: id ?? null, status: failure.status, error: { type: failure.type, reason: failure.reason, index } } });
        continue;
      }
      let docs = indices.get(index);
      if (!docs) indices.set(index, (docs = new Map()));
      id ??= `auto-${++autoId}`;
      if (op === 'create' && docs.has(id)) {
        errors = true;
        items.push({
          create: {
            _index: index,
            _id: id,
            status: 409,
            error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])`, index },
          },
        });
        continue;
      }
      docs.set(id, source);
      items.push({ [op]: { _index: index, _id: id, _version: 1, result: 'created', status: 201, _shards: { total: 1, successful: 1, failed: 0 } } });
    }
    return { errors, items };
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(url.pathname);
    if (req.method !== 'POST' && req.method !== 'PUT') return send(res, 405, { error: 'Incorrect HTTP method', status: 405 });
    if (!m) return send(res, 400, { error: { type: 'illegal_argument_exception', reason: `no handler for ${url.pathname}` }, status: 400 });
    const filter = url.searchParams.get('filter_path');
    const record = { contentType: req.headers['content-type'], authorization: req.headers.authorization, actions: 0, status: 0, body, filterPath: filter };
    requests.push(record);
    const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (ct !== 'application/x-ndjson' && ct !== 'application/json') {
      record.status = 406;
      return send(res, 406, { error: `Content-Type header [${ct}] is not supported`, status: 406 });
    }
    if (failStatus !== null) {
      record.status = failStatus;
      const type = failStatus === 429 ? 'es_rejected_execution_exception' : 'unavailable_shards_exception';
      return send(res, failStatus, { error: { root_cause: [{ type, reason: 'stand-in failure mode' }], type, reason: 'stand-in failure mode' }, status: failStatus });
    }
    try {
      const start = Date.now();
      const result = bulk(body, m[1]);
      record.actions = result.items.length;
      if (hanging) return; // indexed, never answered
      record.status = 200;
      const answer = { took: Date.now() - start, errors: result.errors, items: result.items };
      send(res, 200, filter === null ? answer : (filterPath(answer, filter.split(',').map((p) => p.trim().split('.'))) ?? {}));
    } catch (err) {
      const e = err instanceof BulkError ? err : new BulkError(500, 'exception', String(err));
      record.status = e.status;
      send(res, e.status, { error: { root_cause: [{ type: e.type, reason: e.message }], type: e.type, reason: e.message }, status: e.status });
    }
  }

  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (latencyMs > 0) setTimeout(() => handle(req, res, body), latencyMs);
      else handle(req, res, body);
    });
  };
  // An https.Server serves requests as an http.Server does (it is one over TLS sockets).
  const srv = await startLoopbackServer(tls === undefined ? listener : (https.createServer(tls, listener) as unknown as Server));
  const { port } = srv;

  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    indices,
    requests,
    documents: () => [...indices.values()].flatMap((m) => [...m.values()]),
    failRequests: (s) => void (failStatus = s),
    hang: (on) => void (hanging = on),
    latency: (ms) => void (latencyMs = ms),
    itemFailures: (fn) => void (itemFailure = fn),
    refuse: () => srv.refuse(),
    reopen: () => srv.reopen(),
    stop: () => srv.stop(),
  };
}
