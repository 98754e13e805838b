/**
 * Grafana Loki shipping: a winston transport batching entries into
 * `POST /loki/api/v1/push` (JSON), one stream per low-cardinality label set.
 */
import { Registry } from '../metrics/prom-client';
import { readOptionalString, readSection, readString, readStringRecord, typeError, type Bag } from '../util/validate';
import { SendError, type BatchOutcome } from './batch-queue';
import { basicAuthorization, retryableStatus } from './http-post';
import { fieldOf, type LogRecord } from './record';
import { Utf8Slab, type SlabRange } from './slab';
import { ShippingTransport, type ShippedEntry, type ShipperInternals } from './shipper';
import { readShipperOptions, SHIPPER_KEYS, type ResolvedShipperOptions, type ShipperOptions } from './shipper-options';

/** Options of {@link LokiTransport}. */
export interface LokiTransportOptions extends ShipperOptions {
  /** Static labels added to every stream (e.g. `{ env: 'prod' }`). Default `{}`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Entry fields that become stream labels; keep them low-cardinality. Default `['service', 'level']`. */
  readonly labelKeys?: readonly string[];
  /** Basic authentication (Grafana Cloud: the instance id). */
  readonly username?: string;
  /** Basic authentication password / token. */
  readonly password?: string;
  /** Registry for the pipeline metrics when used standalone. */
  readonly registry?: Registry;
}

/** {@link LokiTransportOptions} with defaults filled in. */
export interface ResolvedLokiOptions extends ResolvedShipperOptions {
  readonly labels: Readonly<Record<string, string>>;
  readonly labelKeys: readonly string[];
  readonly authorization: string | undefined;
}

const LOKI_KEYS = [...SHIPPER_KEYS, 'labels', 'labelKeys', 'username', 'password', 'registry'] as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Validate Loki transport options found at option path `path`. */
export function resolveLokiOptions(options: unknown, path: string): ResolvedLokiOptions {
  const o: Bag = readSection(options, path, LOKI_KEYS);
  const labels = readStringRecord(o, 'labels', path);
  for (const k of Object.keys(labels)) if (!LABEL_NAME.test(k)) typeError(`${path}.labels.${k}`, 'a valid Loki label name', k);
  const keys = o.labelKeys === undefined ? ['service', 'level'] : o.labelKeys;
  if (!Array.isArray(keys)) typeError(`${path}.labelKeys`, 'an array of label names', keys);
  keys.forEach((k: unknown, i: number) => {
    if (typeof k !== 'string' || !LABEL_NAME.test(k)) typeError(`${path}.labelKeys[${i}]`, 'a valid Loki label name', k);
  });
  const username = readOptionalString(o, 'username', path);
  const password = readString(o, 'password', path, '', true);
  if (o.registry !== undefined && !(o.registry instanceof Registry)) typeError(`${path}.registry`, 'a prom-client Registry', o.registry);
  return Object.freeze({
    ...readShipperOptions(o, path),
    labels,
    labelKeys: Object.freeze([...(keys as string[])]),
    authorization: username === undefined ? undefined : basicAuthorization(username, password),
  });
}

/** One queued Loki entry. */
interface LokiEntry extends ShippedEntry {
  /** Canonical key of the stream's label set. */
  readonly streamKey: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Unix epoch in nanoseconds, as a decimal string. */
  readonly ts: string;
}

/** Ships log entries to Grafana Loki. */
export class LokiTransport extends ShippingTransport<LokiEntry> {
  readonly #o: ResolvedLokiOptions;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #streams = new Map<string, Readonly<Record<string, string>>>();
  readonly #spoolSlab = new Utf8Slab();
  #lastMs = 0;
  #sub = 0;

  /** Validates `options` (errors name the option) and starts the (unref'd) flush timer. */
  constructor(options: LokiTransportOptions, internals: ShipperInternals = {}) {
    const o = resolveLokiOptions(options, 'loki');
    super('loki', o, options.registry, internals);
    this.#o = o;
    this.#headers = Object.freeze({
      ...o.headers,
      'content-type': 'application/json',
      ...(o.authorization ? { authorization: o.authorization } : {}),
    });
  }

  /** Nanosecond timestamp, strictly increasing within this transport so per-stream order survives equal milliseconds. */
  #timestamp(record: LogRecord): string {
    const parsed = Date.parse(record.timestamp);
    let ms = Number.isFinite(parsed) ? parsed : Date.now();
    if (ms > this.#lastMs) {
      this.#lastMs = ms;
      this.#sub = 0;
    } else {
      ms = this.#lastMs;
      this.#sub++;
      if (this.#sub > 999_999) {
        this.#lastMs = ms = ms + 1;
        this.#sub = 0;
      }
    }
    return `${ms}${String(this.#sub).padStart(6, '0')}`;
  }

  /** The entry's stream labels (`labelKeys` read from the line) and the JSON line. */
  protected toEntry(record: LogRecord): LokiEntry {
    let streamKey = '';
    for (const k of this.#o.labelKeys) {
      const v = fieldOf(record, k);
      if (v !== undefined && v !== null && typeof v !== 'object') streamKey += `${k}\u0000${String(v)}\u0001`;
    }
    let labels = this.#streams.get(streamKey);
    if (labels === undefined) {
      const l: Record<string, string> = { ...this.#o.labels };
      for (const k of this.#o.labelKeys) {
        const v = fieldOf(record, k);
        if (v !== undefined && v !== null && typeof v !== 'object') l[k] = String(v);
      }
      labels = Object.freeze(l);
      if (this.#streams.size < 10_000) this.#streams.set(streamKey, labels);
    }
    const line = record.line;
    return { streamKey, labels, ts: this.#timestamp(record), line, bytes: Buffer.byteLength(line) + 40, attempts: 0, seg: undefined, ord: 0 };
  }

  /** `[streamKey, labels, ts, line]` as JSON: replayed, the entry keeps its stream and nanosecond timestamp. */
  protected spoolRecord(entry: LokiEntry): SlabRange {
    const slab = this.#spoolSlab;
    const start = slab.append(JSON.stringify([entry.streamKey, entry.labels, entry.ts, entry.line]));
    return { buf: slab.buffer, start, end: slab.position };
  }

  /** A spooled entry, with its original stream and timestamp. */
  protected fromSpool(buf: Buffer, start: number, end: number): LokiEntry {
    const [streamKey, rawLabels, ts, line] = JSON.parse(buf.toString('utf8', start, end)) as [string, Record<string, string>, string, string];
    if (typeof streamKey !== 'string' || typeof ts !== 'string' || typeof line !== 'string' || rawLabels === null || typeof rawLabels !== 'object') {
      throw new Error('unreadable spooled Loki entry');
    }
    let labels = this.#streams.get(streamKey);
    if (labels === undefined) {
      labels = Object.freeze({ ...rawLabels });
      if (this.#streams.size < 10_000) this.#streams.set(streamKey, labels);
    }
    return { streamKey, labels, ts, line, bytes: Buffer.byteLength(line) + 40, attempts: 0, seg: undefined, ord: 0 };
  }

  /** POST one push request; 2xx delivers all, 429/5xx retry all, other statuses reject all (Loki stores the valid ones of a 400). */
  protected async sendBatch(batch: readonly LokiEntry[], signal: AbortSignal): Promise<BatchOutcome<LokiEntry>> {
    const streams = new Map<string, { stream: Readonly<Record<string, string>>; values: [string, string][] }>();
    for (const e of batch) {
      let s = streams.get(e.streamKey);
      if (!s) {
        s = { stream: e.labels, values: [] };
        streams.set(e.streamKey, s);
      }
      s.values.push([e.ts, e.line]);
    }
    const body = JSON.stringify({ streams: [...streams.values()] });
    const res = await this.poster.post('/loki/api/v1/push', body, this.#headers, signal);
    if (res.status >= 200 && res.status < 300) return { retry: [], rejected: [] };
    throw new SendError(`push answered ${res.status}: ${res.body.slice(0, 300)}`, retryableStatus(res.status));
  }
}
