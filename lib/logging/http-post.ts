import http from 'node:http';

/** A backend's answer. */
export interface PostResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * A keep-alive HTTP(S) client for one backend URL; idle sockets never hold the process open. The one
 * POST client of the package: the log shippers and the alert notifiers (webhook, Alertmanager) use it.
 */
export class HttpPoster {
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  /** Basic authentication from the URL's own credentials (`https://user:pass@host`), if any. */
  readonly #authorization: string | undefined;

  /** Client for `url` (http: or https:); credentials in it are sent as Basic authentication. */
  constructor(url: URL) {
    this.#url = url;
    this.#authorization = url.username === '' && url.password === '' ? undefined : basicAuthorization(decoded(url.username), decoded(url.password));
    // node:https (with node:tls) loads only for an https: URL: start-up cost.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const client: typeof http = url.protocol === 'https:' ? (require('node:https') as typeof http) : http;
    this.#agent = new client.Agent({ keepAlive: true, maxSockets: 4 });
    this.#request = client.request;
  }

  /**
   * POST `body` (a string, or bytes in one or more pieces written back to back) to `path`, joined to
   * the base URL's path (its trailing slashes trimmed); `''` posts to the base URL itself, query
   * string included. Rejects on network errors and on `signal`; does not follow redirects.
   */
  post(path: string, body: string | Buffer | readonly Buffer[], headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<PostResponse> {
    const target = path === '' ? `${this.#url.pathname}${this.#url.search}` : `${this.#url.pathname.replace(/\/+$/, '')}${path}`;
    // Encoded once: measuring the string for Content-Length and then writing it would scan it twice.
    const pieces = typeof body === 'string' ? [Buffer.from(body)] : Buffer.isBuffer(body) ? [body] : body;
    let length = 0;
    for (const p of pieces) length += p.length;
    return new Promise<PostResponse>((resolve, reject) => {
      const req = this.#request(
        {
          protocol: this.#url.protocol,
          hostname: this.#url.hostname,
          port: this.#url.port,
          path: target,
          method: 'POST',
          agent: this.#agent,
          signal,
          headers: { ...(this.#authorization !== undefined && !hasAuthorization(headers) ? { authorization: this.#authorization } : {}), ...headers, 'content-length': length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      // Written before the agent hands over a socket (next tick), so the headers and every
      // piece leave together in one writev.
      for (const p of pieces) req.write(p);
      req.end();
    });
  }

  /** Close idle sockets. */
  close(): void {
    this.#agent.destroy();
  }
}

/** A URL's percent-encoded user name or password, decoded; as written when it is not valid encoding (`100%`). */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Whether `headers` set `Authorization` (in any letter case). */
function hasAuthorization(headers: Readonly<Record<string, string>>): boolean {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') return true;
  return false;
}

/** The `Authorization` value of HTTP Basic authentication (RFC 7617, UTF-8). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** True for statuses worth retrying: 408, 429 and every 5xx. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
