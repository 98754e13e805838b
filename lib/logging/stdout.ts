import TransportStream from 'winston-transport';
import { atTurnEnd } from '../util/turn-end';
import { MESSAGE } from './levels';

/** Options of {@link JsonLinesTransport}. */
export interface JsonLinesTransportOptions extends TransportStream.TransportStreamOptions {
  /** Where the lines go. Default `process.stdout`. */
  readonly stream?: NodeJS.WritableStream;
}

/** Bytes buffered before a write is forced without waiting for the end of the event-loop turn. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * The default transport: one pre-serialised JSON line per entry, written to a stream.
 * Lines logged in the same event-loop turn are written together in one `write()` (one
 * system call instead of many); `error` lines, `flush()` and shutdown write at once, so a
 * crash right after an error line still leaves that line on the stream.
 */
export class JsonLinesTransport extends TransportStream {
  readonly #stream: NodeJS.WritableStream;
  #pending = '';
  #pendingLines = 0;
  #scheduled = false;

  /** Create a transport writing to `options.stream` (default stdout). */
  constructor(options: JsonLinesTransportOptions = {}) {
    super(options);
    this.#stream = options.stream ?? process.stdout;
  }

  /** winston entry point: buffer the line, flush now for `error` lines. */
  override log(info: Record<string | symbol, unknown>, next?: () => void): void {
    this.#pending += `${String(info[MESSAGE])}\n`;
    this.#pendingLines++;
    if (info.level === 'error' || this.#pending.length >= MAX_PENDING_CHARS) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      atTurnEnd(this.#onTurnEnd);
    }
    if (next) next();
  }

  /** Write everything buffered now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending === '') return;
    const chunk = this.#pending;
    const lines = this.#pendingLines;
    this.#pending = '';
    this.#pendingLines = 0;
    this.writeChunk(chunk, lines);
  }

  /** Hand `chunk` (`lines` whole lines) to the destination. */
  protected writeChunk(chunk: string, _lines: number): void {
    this.#stream.write(chunk);
  }

  /** Write everything buffered and resolve once the stream has taken it (its write callback ran). */
  drain(): Promise<void> {
    this.flush();
    return new Promise<void>((resolve) => {
      const stream = this.#stream as NodeJS.WritableStream & { writableEnded?: boolean; destroyed?: boolean };
      if (stream.writableEnded || stream.destroyed) return resolve();
      stream.write('', () => resolve());
    });
  }

  /** winston calls this when the logger closes. */
  override close(): void {
    this.flush();
  }

  readonly #onTurnEnd = (): void => {
    if (this.#scheduled) this.flush();
  };
}
