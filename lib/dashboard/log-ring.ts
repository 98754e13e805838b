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
 * A bounded ring of recent log lines, indexed by trace id: the trace → logs join.
 * Attach {@link LogRing.transport} to the instance's winston logger.
 */
export class LogRing {
  readonly #capacity: number;
  readonly #lines: LogLine[] = [];
  readonly #byTrace = new Map<string, LogLine[]>();
  #seq = 0;

  /** Keep at most `capacity` lines. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Add one winston `info` object. */
  push(info: Record<string, unknown>): void {
    if (this.#capacity === 0) return;
    const fields: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of Object.entries(info)) {
      if (SKIP.has(k) || v === undefined || n >= MAX_FIELDS) continue;
      fields[k] = short(v);
      n++;
    }
    const ts = info.timestamp ?? info['@timestamp'];
    const parsed = typeof ts === 'string' ? Date.parse(ts) : NaN;
    const line: LogLine = {
      seq: ++this.#seq,
      timeMs: Number.isFinite(parsed) ? parsed : Date.now(),
      level: short(info.level ?? 'info'),
      message: short(info.message ?? ''),
      traceId: idOf(info, 'trace_id', 'traceId', 'trace'),
      spanId: idOf(info, 'span_id', 'spanId', 'span'),
      fields,
    };
    this.#lines.push(line);
    if (line.traceId) {
      const list = this.#byTrace.get(line.traceId);
      if (list) list.push(line);
      else this.#byTrace.set(line.traceId, [line]);
    }
    if (this.#lines.length > this.#capacity) {
      const old = this.#lines.shift() as LogLine;
      if (old.traceId) {
        const list = this.#byTrace.get(old.traceId);
        if (list) {
          list.shift();
          if (list.length === 0) this.#byTrace.delete(old.traceId);
        }
      }
    }
  }

  /** Lines written during trace `traceId`, oldest first. */
  byTrace(traceId: string): readonly LogLine[] {
    return this.#byTrace.get(traceId) ?? [];
  }

  /** Most recent lines first, optionally only some levels or one trace. */
  recent(filter: { levels?: readonly string[]; limit?: number } = {}): LogLine[] {
    const out: LogLine[] = [];
    const limit = filter.limit ?? 100;
    for (let i = this.#lines.length - 1; i >= 0 && out.length < limit; i--) {
      const l = this.#lines[i] as LogLine;
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
