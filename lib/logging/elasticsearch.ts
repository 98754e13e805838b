/**
 * Elasticsearch / OpenSearch shipping: a winston transport batching entries into the
 * `_bulk` API as NDJSON `create` actions with client-generated ids, so a retried batch
 * never indexes a line twice (a 409 answers "already there") and data streams work.
 */
import { randomBytes } from 'node:crypto';
import { Registry } from '../metrics/prom-client';
import { isoNow } from '../util/clock';
import { rangeError, readBool, readOptionalString, readSection, readString, typeError, type Bag } from '../util/validate';
import { SendError, type BatchOutcome, type Rejection } from './batch-queue';
import { basicAuthorization, retryableStatus } from './http-post';
import { ecsJson } from './ecs';
import type { LogRecord } from './record';
import { coalesce, Utf8Slab, type SlabChunk, type SlabRange } from './slab';
import type { SpoolSegment } from './spool';
import { ShippingTransport, type ShippedEntry, type ShipperInternals } from './shipper';
import { readShipperOptions, SHIPPER_KEYS, type ResolvedShipperOptions, type ShipperOptions } from './shipper-options';

/** Options of {@link ElasticsearchTransport}. */
export interface ElasticsearchTransportOptions extends ShipperOptions {
  /**
   * Target index or data stream; `{yyyy}`, `{MM}`, `{dd}`, `{HH}` are replaced from the entry's
   * UTC timestamp (daily indices by default). Default `"logs-{yyyy}.{MM}.{dd}"`.
   */
  readonly index?: string;
  /** Basic authentication. */
  readonly username?: string;
  /** Basic authentication (with `username`). */
  readonly password?: string;
  /** API key, sent as `Authorization: ApiKey <apiKey>` (the base64 `id:api_key` form Elasticsearch returns as `encoded`). */
  readonly apiKey?: string;
  /** Send Elastic Common Schema documents (`@timestamp`, `log.level`, `trace.id`, ...). Default `true`; `false` sends the JSON line as is. */
  readonly ecs?: boolean;
  /** `service.name` for entries that carry no `service` (standalone use). */
  readonly serviceName?: string;
  /** Registry for the pipeline metrics when used standalone (inside `createObservability` the instance's registry is used). */
  readonly registry?: Registry;
}

/** {@link ElasticsearchTransportOptions} with defaults filled in. */
export interface ResolvedElasticsearchOptions extends ResolvedShipperOptions {
  readonly index: string;
  readonly authorization: string | undefined;
  readonly ecs: boolean;
  readonly serviceName: string | undefined;
}

const ES_KEYS = [...SHIPPER_KEYS, 'index', 'username', 'password', 'apiKey', 'ecs', 'serviceName', 'registry'] as const;

/** Validate Elasticsearch transport options found at option path `path`. */
export function resolveElasticsearchOptions(options: unknown, path: string): ResolvedElasticsearchOptions {
  const o: Bag = readSection(options, path, ES_KEYS);
  if (options === undefined) typeError(path, 'an object with a url', options);
  const index = readString(o, 'index', path, 'logs-{yyyy}.{MM}.{dd}');
  const probe = index.replace(/\{(yyyy|MM|dd|HH)\}/g, '0');
  if (probe !== probe.toLowerCase() || /[\\/*?"<>|, #{}:]/.test(probe) || /^[-_+.]/.test(probe)) {
    rangeError(`${path}.index`, 'a lowercase index name without \\ / * ? " < > | , # : spaces or braces other than {yyyy} {MM} {dd} {HH}', index);
  }
  const username = readOptionalString(o, 'username', path);
  const password = readString(o, 'password', path, '', true);
  const apiKey = readOptionalString(o, 'apiKey', path);
  if (username !== undefined && apiKey !== undefined) rangeError(`${path}.apiKey`, 'unset when username is set (choose one)', apiKey);
  if (o.registry !== undefined && !(o.registry instanceof Registry)) typeError(`${path}.registry`, 'a prom-client Registry', o.registry);
  let authorization: string | undefined;
  if (username !== undefined) authorization = basicAuthorization(username, password);
  else if (apiKey !== undefined) authorization = `ApiKey ${apiKey}`;
  return Object.freeze({
    ...readShipperOptions(o, path),
    index,
    authorization,
    ecs: readBool(o, 'ecs', path, true),
    serviceName: readOptionalString(o, 'serviceName', path),
  });
}

/**
 * A queued `_bulk` pair, already encoded (`{"create":...}\n{doc}\n`): bytes `[start, end)` of a
 * shared {@link Utf8Slab} buffer. The action's JSON holds no raw newline, so the document starts
 * after the first one.
 */
class BulkEntry implements ShippedEntry, SlabRange {
  attempts = 0;
  seg: SpoolSegment | undefined = undefined;
  ord = 0;
  constructor(
    public buf: Buffer,
    public start: number,
    public end: number,
    /** The slab buffer `buf` is, while the pair is in use there (not for a pair read back from the spool). */
    public chunk: SlabChunk | undefined,
  ) {}

  /** Point a settled entry at another pair (the transport reuses settled entries). */
  reset(buf: Buffer, start: number, end: number, chunk: SlabChunk | undefined): this {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.chunk = chunk;
    this.attempts = 0;
    this.seg = undefined;
    this.ord = 0;
    return this;
  }

  /** Size counted against the queue limit (the encoded pair). */
  get bytes(): number {
    return this.end - this.start;
  }

  /** The document as sent (decoded only for a dead letter). */
  get line(): string {
    return this.buf.toString('utf8', this.buf.indexOf(10, this.start) + 1, this.end - 1);
  }
}

/**
 * The `_bulk` endpoint, answering only what the transport reads: the `errors` flag, and each item's
 * `status` and `error` (Logstash's default `bulk_path` asks for the same). A full item also carries
 * index, id, version, result, shards, sequence number and primary term: about six times the bytes,
 * 170 KB for a batch of 1,000. Error responses are not filtered by Elasticsearch.
 */
const BULK_PATH = '/_bulk?filter_path=errors,items.*.error,items.*.status';

/**
 * Settled entries kept for reuse. Reusing them keeps the queue from allocating an object per line
 * that lives for a batch's fill time and round trip, long enough to be copied by the young-generation
 * collector (docs/performance.md); a few batches' worth covers steady traffic without holding memory
 * after a backlog drains.
 */
const REUSED_ENTRIES = 4096;
/** What a reusable entry points at: nothing, so that it keeps no slab alive. */
const NO_BYTES = Buffer.alloc(0);

interface BulkItemResult {
  readonly status?: number;
  readonly error?: { readonly type?: string; readonly reason?: string } | string;
}

/**
 * True when a `_bulk` answer says `"errors":false` among its top-level fields before `items`
 * (`{"took":3,"errors":false,"items":[...]}`): every action succeeded and the (large) item list
 * need not be parsed. Anything else goes through the full parse.
 */
export function bulkSucceeded(body: string): boolean {
  const items = body.indexOf('"items"');
  if (items === -1) return false;
  const head = body.slice(0, items);
  // Only scalar top-level fields before "items": one opening brace, no nested object or array.
  if (!head.startsWith('{') || head.indexOf('{', 1) !== -1 || head.includes('[')) return false;
  return /"errors"\s*:\s*false\s*,/.test(head);
}

/** Ships log entries to Elasticsearch or OpenSearch through `_bulk`. */
export class ElasticsearchTransport extends ShippingTransport<BulkEntry> {
  readonly #o: ResolvedElasticsearchOptions;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #idPrefix = randomBytes(9).toString('base64url');
  #seq = 0;
  readonly #slab = new Utf8Slab();
  #indexKey = '';
  /** `{"create":{"_index":"<index of #indexKey>","_id":"<idPrefix>` */
  #actionHead = '';
  readonly #free: BulkEntry[] = [];

  /** Validates `options` (errors name the option) and starts the (unref'd) flush timer. */
  constructor(options: ElasticsearchTransportOptions, internals: ShipperInternals = {}) {
    const o = resolveElasticsearchOptions(options, 'elasticsearch');
    super('elasticsearch', o, options.registry, internals);
    this.#o = o;
    this.#headers = Object.freeze({
      ...o.headers,
      'content-type': 'application/x-ndjson',
      accept: 'application/json',
      ...(o.authorization ? { authorization: o.authorization } : {}),
    });
  }

  /** The start of the `create` action for an entry stamped `timestamp` (index resolved once per hour of timestamps). */
  #action(timestamp: string): string {
    if (!timestamp.startsWith(this.#indexKey) || this.#indexKey === '') {
      const key = timestamp.slice(0, 13);
      const index = this.#o.index
        .replace(/\{yyyy\}/g, key.slice(0, 4))
        .replace(/\{MM\}/g, key.slice(5, 7))
        .replace(/\{dd\}/g, key.slice(8, 10))
        .replace(/\{HH\}/g, key.slice(11, 13));
      this.#indexKey = key;
      this.#actionHead = `{"create":{"_index":${JSON.stringify(index)},"_id":"${this.#idPrefix}`;
    }
    return this.#actionHead;
  }

  /** Serialise the action and the document once, at enqueue time. */
  protected toEntry(record: LogRecord): BulkEntry {
    const ts = record.timestamp.length >= 13 ? record.timestamp : isoNow();
    const doc = this.#o.ecs ? ecsJson(record, this.#o.serviceName) : record.line;
    const slab = this.#slab;
    const start = slab.append(`${this.#action(ts)}${(this.#seq++).toString(36)}"}}\n${doc}\n`);
    return this.#entry(slab.buffer, start, slab.position, slab.chunk);
  }

  #entry(buf: Buffer, start: number, end: number, chunk: SlabChunk | undefined): BulkEntry {
    return this.#free.pop()?.reset(buf, start, end, chunk) ?? new BulkEntry(buf, start, end, chunk);
  }

  /** Delivered or dropped entries: their bytes released in the slab, the entries kept for reuse (up to {@link REUSED_ENTRIES}). */
  protected override settled(items: readonly BulkEntry[]): void {
    const slab = this.#slab;
    const free = this.#free;
    for (const it of items) {
      if (it.chunk !== undefined) slab.release(it.chunk);
      it.reset(NO_BYTES, 0, 0, undefined);
      if (free.length < REUSED_ENTRIES) free.push(it);
    }
  }

  /** The encoded pair itself: replayed, it carries the same `_id`, so Elasticsearch stores it once. */
  protected spoolRecord(entry: BulkEntry): SlabRange {
    return entry;
  }

  /** A spooled pair, sent as it was written. */
  protected fromSpool(buf: Buffer, start: number, end: number): BulkEntry {
    return this.#entry(buf, start, end, undefined);
  }

  /** POST one `_bulk` request and sort its items into delivered, retry and rejected. */
  protected async sendBatch(batch: readonly BulkEntry[], signal: AbortSignal): Promise<BatchOutcome<BulkEntry>> {
    const res = await this.poster.post(BULK_PATH, coalesce(batch), this.#headers, signal);
    if (res.status < 200 || res.status >= 300) {
      throw new SendError(`_bulk answered ${res.status}: ${res.body.slice(0, 300)}`, retryableStatus(res.status));
    }
    if (bulkSucceeded(res.body)) return { retry: [], rejected: [] };
    let parsed: { errors?: boolean; items?: Array<Record<string, BulkItemResult>> };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch (err) {
      // `create` with our ids is idempotent: re-sending the whole batch is safe.
      throw new SendError(`_bulk answered unparsable JSON: ${(err as Error).message}`, true);
    }
    if (parsed.errors !== true) return { retry: [], rejected: [] };
    const items = parsed.items;
    if (!Array.isArray(items) || items.length !== batch.length) {
      throw new SendError(`_bulk answered ${Array.isArray(items) ? items.length : 'no'} items for ${batch.length} actions`, true);
    }
    const retry: BulkEntry[] = [];
    const rejected: Rejection<BulkEntry>[] = [];
    items.forEach((wrapper, i) => {
      const r = wrapper.create ?? Object.values(wrapper)[0] ?? {};
      const status = typeof r.status === 'number' ? r.status : 0;
      const entry = batch[i] as BulkEntry;
      // 409: a document with our id exists, i.e. an earlier attempt indexed it.
      if ((status >= 200 && status < 300) || status === 409) return;
      if (retryableStatus(status)) retry.push(entry);
      else {
        const e = r.error;
        const why = typeof e === 'string' ? e : `${e?.type ?? 'error'}: ${e?.reason ?? ''}`;
        rejected.push({ item: entry, detail: `${status} ${why}`.slice(0, 500) });
      }
    });
    return { retry, rejected };
  }
}
