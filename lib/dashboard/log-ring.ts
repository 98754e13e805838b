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

/** A line as stored: the winston info object is flattened only when someone reads it. */
interface Stored {
  readonly seq: number;
  readonly timeMs: number;
  readonly traceId: string | undefined;
  readonly info: Record<string, unknown>;
  view: LogLine | undefined;
}

function toView(st: Stored): LogLine {
  if (st.view) return st.view;
  const info = st.info;
  const fields: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(info)) {
    if (SKIP.has(k) || v === undefined || n >= MAX_FIELDS) continue;
    fields[k] = short(v);
    n++;
  }
  const ts = info.timestamp ?? info['@timestamp'];
  const parsed = typeof ts === 'string' ? Date.parse(ts) : NaN;
  st.view = {
    seq: st.seq,
    timeMs: Number.isFinite(parsed) ? parsed : st.timeMs,
    level: short(info.level ?? 'info'),
    message: short(info.message ?? ''),
    traceId: st.traceId,
    spanId: idOf(info, 'span_id', 'spanId', 'span'),
    fields,
  };
  return st.view;
}

/**
 * A bounded ring of recent log lines, indexed by trace id: the trace → logs join.
 * Attach {@link LogRing.transport} to the instance's winston logger. Writing a line costs a slot
 * in a fixed circular array and an index entry; flattening happens when the dashboard reads it.
 */
export class LogRing {
  readonly #capacity: number;
  readonly #slots: (Stored | undefined)[];
  #next = 0;
  #size = 0;
  readonly #byTrace = new Map<string, Stored[]>();
  #seq = 0;

  /** Keep at most `capacity` lines. */
  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#slots = new Array<Stored | undefined>(capacity);
  }

  /** Add one winston `info` object. */
  push(info: Record<string, unknown>): void {
    if (this.#capacity === 0) return;
    const st: Stored = { seq: ++this.#seq, timeMs: Date.now(), traceId: idOf(info, 'trace_id', 'traceId', 'trace'), info, view: undefined };
    const old = this.#slots[this.#next];
    if (old?.traceId) {
      const list = this.#byTrace.get(old.traceId);
      if (list) {
        list.shift();
        if (list.length === 0) this.#byTrace.delete(old.traceId);
      }
    }
    this.#slots[this.#next] = st;
    this.#next = (this.#next + 1) % this.#capacity;
    if (this.#size < this.#capacity) this.#size++;
    if (st.traceId) {
      const list = this.#byTrace.get(st.traceId);
      if (list) list.push(st);
      else this.#byTrace.set(st.traceId, [st]);
    }
  }

  /** Lines written during trace `traceId`, oldest first. */
  byTrace(traceId: string): readonly LogLine[] {
    return (this.#byTrace.get(traceId) ?? []).map(toView);
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

  override log(info: Record<string, unknown>, callback: () => void): void {
    this.#ring.push(info);
    callback();
  }
}
