import TransportStream from 'winston-transport';

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

/**
 * A line as stored: the serialised JSON line our format already built (one flat string, cheap
 * for the garbage collector to keep), or the info object when there is none; flattened to a
 * {@link LogLine} only when someone reads it.
 */
interface Stored {
  readonly seq: number;
  readonly timeMs: number;
  readonly traceId: string | undefined;
  readonly line: string | undefined;
  readonly info: Record<string, unknown> | undefined;
  view: LogLine | undefined;
}

function parsed(st: Stored): Record<string, unknown> {
  if (st.info) return st.info;
  try {
    const v: unknown = JSON.parse(st.line as string);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Not JSON (a custom format): shown as the message.
  }
  return { message: st.line };
}

function toView(st: Stored): LogLine {
  if (st.view) return st.view;
  const info = parsed(st);
  const fields: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(info)) {
    if (SKIP.has(k) || v === undefined || n >= MAX_FIELDS) continue;
    fields[k] = short(v);
    n++;
  }
  const ts = info.timestamp ?? info['@timestamp'];
  const parsedTs = typeof ts === 'string' ? Date.parse(ts) : NaN;
  st.view = {
    seq: st.seq,
    timeMs: Number.isFinite(parsedTs) ? parsedTs : st.timeMs,
    level: short(info.level ?? 'info'),
    message: short(info.message ?? ''),
    traceId: st.traceId,
    spanId: idOf(info, 'span_id', 'spanId', 'span'),
    fields,
  };
  return st.view;
}

/** winston's key of the formatted line (`Symbol.for('message')`, as triple-beam defines it). */
const MESSAGE = Symbol.for('message');

/**
 * A bounded ring of recent log lines, searchable by trace id: the trace → logs join.
 * Attach {@link LogRing.transport} to the instance's winston logger. Writing a line costs one
 * small record in a fixed circular array (the line itself is the string the logger already
 * serialised); flattening and the trace lookup happen when the dashboard reads.
 */
export class LogRing {
  readonly #capacity: number;
  readonly #slots: (Stored | undefined)[];
  #next = 0;
  #size = 0;
  #seq = 0;

  /** Keep at most `capacity` lines. */
  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#slots = new Array<Stored | undefined>(capacity);
  }

  /** Add one winston `info` object. */
  push(info: Record<string | symbol, unknown>): void {
    if (this.#capacity === 0) return;
    const line = info[MESSAGE];
    const json = typeof line === 'string' && line.charCodeAt(0) === 123; // '{'
    this.#slots[this.#next] = {
      seq: ++this.#seq,
      timeMs: Date.now(),
      traceId: idOf(info as Record<string, unknown>, 'trace_id', 'traceId', 'trace'),
      line: json ? line : undefined,
      info: json ? undefined : (info as Record<string, unknown>),
      view: undefined,
    };
    this.#next = (this.#next + 1) % this.#capacity;
    if (this.#size < this.#capacity) this.#size++;
  }

  /** Lines written during trace `traceId`, oldest first. */
  byTrace(traceId: string): readonly LogLine[] {
    const out: LogLine[] = [];
    for (let i = this.#size; i >= 1; i--) {
      const st = this.#slots[(this.#next - i + this.#capacity) % this.#capacity] as Stored;
      if (st.traceId === traceId) out.push(toView(st));
    }
    return out;
  }

  /** Most recent lines first, optionally only some levels or one trace. */
  recent(filter: { levels?: readonly string[]; limit?: number } = {}): LogLine[] {
    const out: LogLine[] = [];
    const limit = filter.limit ?? 100;
    for (let i = 1; i <= this.#size && out.length < limit; i++) {
      const st = this.#slots[(this.#next - i + this.#capacity) % this.#capacity] as Stored;
      const l = toView(st);
      if (filter.levels && !filter.levels.includes(l.level)) continue;
      out.push(l);
    }
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
