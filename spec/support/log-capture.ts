import { Writable } from 'node:stream';
import { JsonLinesTransport } from '../../lib/logging/stdout';

/** Collects the JSON lines a logger writes (through the same transport class stdout uses). */
export interface LogCapture {
  readonly transport: JsonLinesTransport;
  /** Raw lines written so far (flushes the transport first). */
  raw(): string[];
  /** Parsed lines written so far. */
  lines(): Record<string, unknown>[];
}

/** A capture transport for `logging.transports`. */
export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const transport = new JsonLinesTransport({ stream });
  const raw = (): string[] => {
    transport.flush();
    return chunks.join('').split('\n').filter((l) => l.length > 0);
  };
  return { transport, raw, lines: () => raw().map((l) => JSON.parse(l) as Record<string, unknown>) };
}
