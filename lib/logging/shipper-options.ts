/** Options shared by the Elasticsearch and Loki transports, and their validation. */
import {
  checkNumber,
  readFunction,
  readNumber,
  readOptionalString,
  readHeaders,
  typeError,
  rangeError,
  type Bag,
  readEnum,
} from '../util/validate';
import { LOG_LEVEL_NAMES, type LogLevel } from './levels';
import type { BatchQueueSettings, QueuedEntry } from './batch-queue';

/** A line that will never reach the backend, handed to `onDeadLetter`. */
export interface DeadLetter {
  /** The document / line as it would have been sent. */
  readonly line: string;
  /** `rejected` (the backend refused it for good), `queue_full`, `retries_exhausted` or `shutdown`. */
  readonly reason: string;
  /** The backend's explanation or the queue's. */
  readonly detail: string;
}

/** Options common to both shipping transports. */
export interface ShipperOptions {
  /** Base URL of the backend (`http://es:9200`, `http://loki:3100`). Required. */
  readonly url: string;
  /** Extra request headers (e.g. `X-Scope-OrgID` for Loki tenants). Default `{}`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Lowest level shipped. Default: the logger's level. */
  readonly level?: LogLevel;
  /** Lines per request at most. Default `1000`. */
  readonly batchSize?: number;
  /** Bytes per request at most (a single bigger line goes alone). Default `5242880` (5 MiB). */
  readonly batchBytes?: number;
  /** A partial batch waits at most this long. Default `1000` ms. */
  readonly flushIntervalMs?: number;
  /** Bound of the queue (queued plus in flight); lines beyond it are dropped and counted. Default `67108864` (64 MiB). */
  readonly maxQueueBytes?: number;
  /** First retry delay; doubles per consecutive failure, with jitter. Default `500` ms. */
  readonly retryInitialMs?: number;
  /** Cap of the retry delay. Default `30000` ms. */
  readonly retryMaxMs?: number;
  /** Re-sends per line before it is dropped (`retries_exhausted`). Default `Infinity` (bounded by the queue). */
  readonly maxRetries?: number;
  /** Per-request timeout (a hung backend is retried). Default `30000` ms. */
  readonly timeoutMs?: number;
  /** Called with every line that will never arrive; failures of the callback are reported, never thrown. */
  readonly onDeadLetter?: (lines: readonly DeadLetter[]) => void;
}

/** {@link ShipperOptions} with defaults filled in. */
export interface ResolvedShipperOptions
  extends Pick<
    BatchQueueSettings<QueuedEntry>,
    'batchSize' | 'batchBytes' | 'flushIntervalMs' | 'maxQueueBytes' | 'retryInitialMs' | 'retryMaxMs' | 'maxRetries' | 'timeoutMs'
  > {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly level: LogLevel | undefined;
  readonly onDeadLetter: ((lines: readonly DeadLetter[]) => void) | undefined;
}

/** Keys of {@link ShipperOptions}. */
export const SHIPPER_KEYS = [
  'url',
  'headers',
  'level',
  'batchSize',
  'batchBytes',
  'flushIntervalMs',
  'maxQueueBytes',
  'retryInitialMs',
  'retryMaxMs',
  'maxRetries',
  'timeoutMs',
  'onDeadLetter',
] as const;

/** Read the shared shipper options from section `o` at option path `path`. */
export function readShipperOptions(o: Bag, path: string): ResolvedShipperOptions {
  const raw = readOptionalString(o, 'url', path);
  if (raw === undefined) typeError(`${path}.url`, 'a URL string', o.url);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The URL constructor's message adds nothing; the option path and value say it all.
    return typeError(`${path}.url`, 'a valid http(s) URL', raw);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') rangeError(`${path}.url`, 'an http: or https: URL', raw);
  const maxRetries = o.maxRetries === undefined ? Infinity : o.maxRetries;
  if (maxRetries !== Infinity) checkNumber(maxRetries, `${path}.maxRetries`, { min: 0, integer: true });
  const retryInitialMs = readNumber(o, 'retryInitialMs', path, 500, { min: 1 });
  const retryMaxMs = readNumber(o, 'retryMaxMs', path, 30_000, { min: 1 });
  if (retryMaxMs < retryInitialMs) rangeError(`${path}.retryMaxMs`, `at least retryInitialMs (${retryInitialMs})`, retryMaxMs);
  const batchBytes = readNumber(o, 'batchBytes', path, 5 * 1024 * 1024, { min: 1024, integer: true });
  const maxQueueBytes = readNumber(o, 'maxQueueBytes', path, 64 * 1024 * 1024, { min: 1, integer: true });
  return Object.freeze({
    url,
    headers: readHeaders(o, 'headers', path),
    level: o.level === undefined ? undefined : readEnum(o, 'level', path, LOG_LEVEL_NAMES, 'info'),
    batchSize: readNumber(o, 'batchSize', path, 1000, { min: 1, integer: true }),
    batchBytes,
    flushIntervalMs: readNumber(o, 'flushIntervalMs', path, 1000, { min: 1 }),
    maxQueueBytes,
    retryInitialMs,
    retryMaxMs,
    maxRetries: maxRetries as number,
    timeoutMs: readNumber(o, 'timeoutMs', path, 30_000, { min: 1 }),
    onDeadLetter: readFunction<(lines: readonly DeadLetter[]) => void>(o, 'onDeadLetter', path),
  });
}
