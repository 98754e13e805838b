/** The `logging.file` destination: JSON lines appended to a file, one synchronous write per event-loop turn. */
import { closeSync, createWriteStream, openSync, statSync, writeSync, type WriteStream } from 'node:fs';
import { JsonLinesTransport } from './stdout';

/** What the file transport reports to its instance. */
export interface FileLinesHooks {
  /** `lines` lines could not be written (`write_error`) or came after the file was closed (`shutdown`); they are lost. */
  readonly lost: (lines: number, reason: 'write_error' | 'shutdown') => void;
  /** Writing failed after succeeding (or at the first write): called once per run of failures, not per turn. */
  readonly failed: (err: unknown) => void;
}

/**
 * Build the transport for `logging.file`. A regular file (or a path that does not exist yet) is opened
 * here, for appending, and written with `fs.writeSync`: once a turn's lines are flushed they are in the
 * kernel and survive the process being killed, and no write goes through libuv's thread pool. Anything
 * else (a FIFO, a terminal, `/dev/stdout`) is written through a `fs.WriteStream`, which never blocks the
 * event loop on a reader. `close()` (at shutdown) closes what was opened here; lines logged after it are
 * counted as lost.
 */
export function fileLinesTransport(path: string, hooks: FileLinesHooks): JsonLinesTransport {
  let regular = true;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new Error('it is a directory');
    regular = st.isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw openError(path, err);
  }
  if (!regular) {
    const stream = createWriteStream(path, { flags: 'a' });
    stream.on('error', hooks.failed);
    return new StreamedFileTransport(stream, hooks);
  }
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (err) {
    throw openError(path, err);
  }
  return new AppendedFileTransport(fd, hooks);
}

/** The construction error for a log file that cannot be opened, naming the option. */
function openError(path: string, err: unknown): Error {
  return new Error(`express-observability: option "logging.file": "${path}" cannot be opened for appending: ${(err as Error).message}`);
}

/** JSON lines appended to an open file descriptor with `fs.writeSync`. */
class AppendedFileTransport extends JsonLinesTransport {
  #fd: number | undefined;
  #failing = false;
  readonly #hooks: FileLinesHooks;

  constructor(fd: number, hooks: FileLinesHooks) {
    super();
    this.#fd = fd;
    this.#hooks = hooks;
  }

  protected override writeChunk(chunk: string, lines: number): void {
    if (this.#fd === undefined) return this.#hooks.lost(lines, 'shutdown');
    let bytes: Buffer | undefined;
    let off = 0;
    try {
      off = writeSync(this.#fd, chunk);
      if (off === Buffer.byteLength(chunk)) {
        this.#failing = false;
        return;
      }
      // A short write (a full disk, a file size limit): write the rest, or count what it holds as lost.
      bytes = Buffer.from(chunk);
      while (off < bytes.length) {
        const n = writeSync(this.#fd, bytes, off);
        if (n === 0) throw new Error('the file took no more bytes');
        off += n;
      }
      this.#failing = false;
    } catch (err) {
      this.#lost(bytes === undefined ? lines : unfinishedLines(bytes, off), err);
    }
  }

  #lost(lines: number, err: unknown): void {
    this.#hooks.lost(lines, 'write_error');
    if (!this.#failing) this.#hooks.failed(err);
    this.#failing = true;
  }

  override drain(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }

  override close(): void {
    this.flush();
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/**
 * JSON lines written through a `fs.WriteStream` (a FIFO, a terminal): ended at `close()`. A write the
 * stream fails (its reader went away: EPIPE) counts its lines as lost, as does every line after it.
 */
class StreamedFileTransport extends JsonLinesTransport {
  readonly #stream: WriteStream;
  readonly #hooks: FileLinesHooks;
  #closed = false;

  constructor(stream: WriteStream, hooks: FileLinesHooks) {
    super({ stream });
    this.#stream = stream;
    this.#hooks = hooks;
  }

  protected override writeChunk(chunk: string, lines: number): void {
    if (this.#closed) this.#hooks.lost(lines, 'shutdown');
    else if (this.#stream.destroyed) this.#hooks.lost(lines, 'write_error');
    else this.#stream.write(chunk, (err) => err && this.#hooks.lost(lines, 'write_error'));
  }

  override close(): void {
    this.flush();
    this.#closed = true;
    if (!this.#stream.writableEnded) this.#stream.end();
  }
}

/** Lines whose end (`\n`) lies at or after `off`: not written whole. */
function unfinishedLines(bytes: Buffer, off: number): number {
  let n = 0;
  for (let i = bytes.indexOf(10, off); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}
