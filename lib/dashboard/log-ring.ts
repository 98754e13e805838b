import TransportStream from 'winston-transport';
import { ByteRing } from '../util/byte-ring';

/** One log line as kept for the dashboard. */
export interface LogLine {
  readonly seq: number;
  readonly timeMs: number;
  readonly level: string;
  readonly message: string;
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
  /** The other fields, flattened to at most 20 short strings. */
  readonly fields: Readonly<Record<string, string>>;
}

const SKIP = new Set(['level', 'message', 'timestamp', 'trace_id', 'span_id', 'traceId', 'spanId', 'trace', 'span', '@timestamp']);
const MAX_FIELDS = 20;
const MAX_VALUE = 500;

function short(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (v instanceof Error) s = `${v.name}: ${v.message}`;
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch (err) {
      s = `[unserialisable: ${err instanceof Error ? err.message : 'error'}]`;
    }
  }
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}…` : s;
}

function idOf(info: Record<string, unknown>, flat: string, camel: string, nested: 'trace' | 'span'): string | undefined {
  const v = info[flat] ?? info[camel] ?? (info[nested] as { id?: unknown } | undefined)?.id;
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Into `out`: the first {@link MAX_FIELDS} fields of `info` other than level, message, time and ids, as short strings. */
function shortFields(info: Record<string, unknown>, out: Record<string, string>): Record<string, string> {
  let n = 0;
  for (const [k, v] of Object.entries(info)) {
    if (SKIP.has(k) || v === undefined || n >= MAX_FIELDS) continue;
    out[k] = short(v);
    n++;
  }
  return out;
}

/** A stored line (JSON text) as an object; a line that is not a JSON object is shown as the message. */
function parsed(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Not JSON (cut short): shown as the message.
  }
  return { message: text };
}

/** The dashboard's view of a stored line. */
function toView(text: string, seq: number, storedAtMs: number): LogLine {
  const info = parsed(text);
  const fields = shortFields(info, {});
  const ts = info.timestamp ?? info['@timestamp'];
  const parsedTs = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return {
    seq,
    timeMs: Number.isFinite(parsedTs) ? parsedTs : storedAtMs,
    level: short(info.level ?? 'info'),
    message: short(info.message ?? ''),
    traceId: idOf(info, 'trace_id', 'traceId', 'trace'),
    spanId: idOf(info, 'span_id', 'spanId', 'span'),
    fields,
  };
}

/**
 * A line the logger did not serialise as JSON (a custom format): its info object, flattened to what
 * the dashboard shows, as JSON.
 */
function flattenedJson(info: Record<string, unknown>): string {
  const out: Record<string, string> = {};
  const traceId = idOf(info, 'trace_id', 'traceId', 'trace');
  const spanId = idOf(info, 'span_id', 'spanId', 'span');
  if (traceId !== undefined) out.trace_id = traceId;
  if (spanId !== undefined) out.span_id = spanId;
  for (const k of ['level', 'message', 'timestamp', '@timestamp']) if (info[k] !== undefined) out[k] = short(info[k]);
  return JSON.stringify(shortFields(info, out));
}

/** Bytes the ring may use per line it keeps, on average. */
const BYTES_PER_LINE = 1024;

/** winston's key of the formatted line (`Symbol.for('message')`, as triple-beam defines it). */
const MESSAGE = Symbol.for('message');

/**
 * A bounded ring of recent log lines, searchable by trace id: the trace → logs join.
 * Attach {@link LogRing.transport} to the instance's winston logger. A line is kept as the JSON text
 * the logger already serialised, in a buffer outside the JavaScript heap ({@link ByteRing}: at most
 * 1 KB per line on average; a line longer than a quarter of it is kept with its fields cut short);
 * flattening and the trace lookup happen when the dashboard reads.
 */
export class LogRing {
  readonly #ring: ByteRing | undefined;

  /** Keep at most `capacity` lines. */
  constructor(capacity: number) {
    this.#ring = capacity > 0 ? new ByteRing(capacity, capacity * BYTES_PER_LINE) : undefined;
  }

  /** Add one winston `info` object. */
  push(info: Record<string | symbol, unknown>): void {
    const ring = this.#ring;
    if (ring === undefined) return;
    const line = info[MESSAGE];
    const text = typeof line === 'string' && line.charCodeAt(0) === 123 /* '{' */ ? line : flattenedJson(info as Record<string, unknown>);
    const now = Date.now();
    if (ring.push(text, now)) return;
    // Longer than the ring takes whole: its fields cut short, else its start (shown as the message).
    const flat = text === line ? flattenedJson(info as Record<string, unknown>) : text;
    if (flat !== text && ring.push(flat, now)) return;
    ring.push(`${flat.slice(0, Math.floor(ring.maxRecordBytes / 3) - 1)}…`, now);
  }

  /** Lines written during trace `traceId`, oldest first. */
  byTrace(traceId: string): readonly LogLine[] {
    const out: LogLine[] = [];
    this.#ring?.forEachNewest((text, seq, at) => {
      if (!text.includes(traceId)) return;
      const l = toView(text, seq, at);
      if (l.traceId === traceId) out.push(l);
    });
    return out.reverse();
  }

  /** Most recent lines first, optionally only some levels. */
  recent(filter: { levels?: readonly string[]; limit?: number } = {}): LogLine[] {
    const out: LogLine[] = [];
    const limit = filter.limit ?? 100;
    this.#ring?.forEachNewest((text, seq, at) => {
      if (out.length >= limit) return false;
      const l = toView(text, seq, at);
      if (!filter.levels || filter.levels.includes(l.level)) out.push(l);
      return true;
    });
    return out;
  }

  /** A winston transport that feeds this ring. */
  transport(): TransportStream {
    return new RingTransport(this);
  }
}

/** winston transport writing into a {@link LogRing}. */
class RingTransport extends TransportStream {
  readonly #ring: LogRing;

  constructor(ring: LogRing) {
    // No level of its own: it records what the logger lets through (custom level sets included).
    super({});
    this.#ring = ring;
  }

  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    this.#ring.push(info);
    callback();
  }
}
