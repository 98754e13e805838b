import { once } from 'node:events';
import http, { type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** An HTTP server on 127.0.0.1 that can go down for a while (connections reset) and stop. */
export interface LoopbackServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** Destroy every open connection and stop listening (new connections are refused). */
  stop(): Promise<void>;
  /**
   * An outage that keeps the port: open connections are destroyed and every new one is reset at
   * once until {@link LoopbackServer.reopen}. Closing the listener instead would free the port, and
   * on a busy machine another socket may take it before the test listens again.
   */
  refuse(): Promise<void>;
  /** Accept connections again after {@link LoopbackServer.refuse}. */
  reopen(): Promise<void>;
}

/**
 * Start `handler` on 127.0.0.1 on an ephemeral port, tracking sockets so stop() is immediate.
 * `options` go to `http.createServer` (e.g. the package's `serverOptions(app)`); a server built
 * elsewhere (e.g. `obs.createServer(app)`) is started as it is.
 */
export async function startLoopbackServer(handler: RequestListener | Server, options: ServerOptions = {}): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = typeof handler === 'function' ? http.createServer(options, handler) : handler;
  server.on('connection', (s: Socket) => {
    if (refusing) {
      s.resetAndDestroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    refuse() {
      refusing = true;
      for (const s of sockets) s.destroy();
      return Promise.resolve();
    },
    reopen() {
      refusing = false;
      return Promise.resolve();
    },
  };
}
