/**
 * One winston transport standing for the package's own transports (stdout / file, the
 * shippers, the OTLP transport, the dashboard's ring). winston moves every line through a stream
 * pipe per transport (write, buffer, callback, drain); behind one fan-out that cost is paid once,
 * and the fan-out hands the finished entry to each transport itself, with winston's level rules.
 * Measured: with two transports, winston's own dispatch costs about 1.5 µs more per line
 * (docs/performance.md, "Logging pipeline"). The access log uses {@link deliver} directly.
 */
import TransportStream from 'winston-transport';
import { LEVEL, type LogInfo } from './levels';

/** What the fan-out reads from its logger: the level table and the logger's own level. */
interface LevelSource {
  readonly levels: Readonly<Record<string, number>>;
  readonly level: string;
}

/** The part of a winston transport the fan-out drives. */
type Inner = TransportStream & { format?: { transform(info: LogInfo, opts?: unknown): LogInfo | boolean; options?: unknown } };

const noop = (): void => undefined;

/** The level value a transport takes: its own `level`, else the logger's (`loggerLevel`). */
export function transportLevel(t: TransportStream, levels: Readonly<Record<string, number>>, loggerLevel: number): number {
  return t.level === undefined ? loggerLevel : (levels[t.level] ?? loggerLevel);
}

/**
 * Hand a finished entry to each of `transports` whose level takes `value` (every one when `value`
 * is undefined), through the transport's own format if it has one: winston's per-transport rules
 * without its stream pipe. Shared by the fan-out and the access log's direct write.
 */
export function deliver(
  transports: readonly TransportStream[],
  levels: Readonly<Record<string, number>>,
  loggerLevel: number,
  value: number | undefined,
  info: LogInfo,
): void {
  for (const t of transports as readonly Inner[]) {
    if (t.silent || !t.log) continue;
    if (value !== undefined && value > transportLevel(t, levels, loggerLevel)) continue;
    const fmt = t.format;
    const entry = fmt ? fmt.transform({ ...info }, fmt.options) : info;
    if (entry) t.log(entry as LogInfo, noop);
  }
}

/** See the module comment. Bind it to its logger with {@link FanoutTransport.bind} before the first line. */
export class FanoutTransport extends TransportStream {
  readonly #inner: Inner[] = [];
  #source: LevelSource | undefined;

  /** A fan-out over `transports` (more can be added with {@link FanoutTransport.add}). */
  constructor(transports: readonly TransportStream[] = []) {
    super({});
    for (const t of transports) this.add(t);
  }

  /** Read levels from `logger` (the logger this fan-out is a transport of). */
  bind(logger: LevelSource): void {
    this.#source = logger;
  }

  /** Add a transport behind the fan-out. */
  add(transport: TransportStream): this {
    this.#inner.push(transport as Inner);
    return this;
  }

  /** The transports behind the fan-out. */
  get transports(): readonly TransportStream[] {
    return this.#inner;
  }

  /**
   * The most verbose level any inner transport takes (a transport without a level takes the
   * logger's): the fan-out's `level`, so winston lets through every line one of them wants.
   */
  takes(): string | undefined {
    const src = this.#source;
    if (!src) return undefined;
    let best = src.level;
    let bestValue = src.levels[best] ?? -1;
    for (const t of this.#inner) {
      const l = t.level;
      if (l === undefined) continue;
      const v = src.levels[l];
      if (v !== undefined && v > bestValue) {
        best = l;
        bestValue = v;
      }
    }
    return best;
  }

  /** Hand `info` to every inner transport whose level takes it. */
  override log(info: Record<string | symbol, unknown>, next?: () => void): void {
    const src = this.#source;
    const levels = src?.levels ?? {};
    deliver(this.#inner, levels, src ? (levels[src.level] ?? 0) : 0, levels[String(info[LEVEL] ?? info.level)], info as LogInfo);
    if (next) next();
  }

  /** winston calls this when the logger closes: close every inner transport. */
  override close(): void {
    for (const t of this.#inner) t.close?.();
  }
}

// winston reads `transport.level` (its per-transport filter, `isLevelEnabled`): the fan-out's is derived
// on each read, so it follows the logger's level when that changes at run time. An accessor on the
// prototype (TypeScript declares `level` a field of TransportStream, so it is defined here, not in the class).
Object.defineProperty(FanoutTransport.prototype, 'level', {
  get(this: FanoutTransport): string | undefined {
    return this.takes();
  },
  set(): void {
    // Derived from the logger and the inner transports; TransportStream's constructor assigns it.
  },
  enumerable: true,
  configurable: true,
});
