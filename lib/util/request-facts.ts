/**
 * Per-request facts more than one participant needs, computed once per request and kept in
 * {@link RequestState} (Express's `req.ip` walks `X-Forwarded-For` through proxy-addr on
 * every read; the span and the access line both want it).
 */
import type { ObservedRequest, RequestState } from '../middleware';

/** The request's client address: Express's `req.ip` (honours `trust proxy`), else the socket's peer; cached per request. */
export function clientAddress(req: ObservedRequest, state: RequestState, headers: ObservedRequest['headers'] = req.headers): string | undefined {
  const cached = state.client;
  if (cached !== undefined) return cached ?? undefined;
  // Without X-Forwarded-For, Express's req.ip is the socket's peer whatever `trust proxy` says.
  const ip = headers['x-forwarded-for'] === undefined ? undefined : (req as { ip?: unknown }).ip;
  const addr = typeof ip === 'string' ? ip : req.socket?.remoteAddress;
  state.client = addr ?? null;
  return addr;
}

/** A Content-Length header value as a number of bytes (`undefined` when absent or malformed). */
export function contentLength(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0 && v.length < 16) {
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  }
  return undefined;
}

/** Path of a request URL without its query string (`/` when absent). */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  if (url.charCodeAt(0) !== 0x2f) {
    // Absolute form (`GET http://host/path HTTP/1.1`, RFC 9112 §3.2.2): Express routes its path, so do we.
    const origin = ABSOLUTE_FORM.exec(url);
    if (origin !== null) {
      const rest = url.slice(origin[0].length);
      return rest.charCodeAt(0) === 0x2f ? pathOf(rest) : '/';
    }
  }
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** The scheme and authority of an absolute-form request target. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;
