import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { readFunction, readNumber, readPatterns, readSection, typeError, type Bag } from '../util/validate';
import { pathMatcher } from '../util/path-match';
import type { AuthFailureReason } from './auth-failures';

/** A user name and password accepted by basic auth. */
export interface BasicCredential {
  readonly username: string;
  readonly password: string;
}

/** Decision of a custom {@link AuthOptions.authorize} function. */
export type AuthorizeFn = (req: IncomingMessage) => boolean | Promise<boolean>;

/**
 * Access control of the observability router (`auth` option). With no key set the router is open.
 * A protected request must come from an allowed address (else 403) and, when any credential kind is
 * configured, present one valid credential: a bearer token, basic credentials, or pass `authorize` (else
 * 401 with a challenge; 403 when `authorize` is the only kind). At least one of the four must be set.
 */
export interface AuthOptions {
  /** Accepted `Authorization: Bearer <token>` tokens. Default: none. */
  readonly bearerTokens?: readonly string[];
  /** Accepted basic-auth credentials (compared in constant time). Default: none. */
  readonly basic?: BasicCredential | readonly BasicCredential[];
  /** Client addresses allowed in: IPv4/IPv6 addresses or CIDRs (`10.0.0.0/8`, `::1`, `fd00::/8`). Default: any. */
  readonly allowIps?: readonly string[];
  /** Custom check; `true` lets the request in (an exception denies it). Default: none. */
  readonly authorize?: AuthorizeFn;
  /**
   * Router paths that are protected (exact, or a prefix followed by `/`; RegExps tested on the path).
   * Default: every endpoint of the router: `/metrics`, `/health`, `/dashboard`, `/alerts`.
   */
  readonly paths?: readonly (string | RegExp)[];
  /** Paths that stay public even when they fall under `paths`. Default `['/health/live']`. */
  readonly publicPaths?: readonly (string | RegExp)[];
  /**
   * Least time between two warn lines about failed authentication, ms (every failure is still counted in
   * `observability_auth_failures_total{reason}`; each line says how many went unlogged). Default `10000`.
   */
  readonly failureLogIntervalMs?: number;
}

/** Auth options with defaults resolved, or `undefined` when access control is off. */
export interface ResolvedAuthOptions {
  readonly bearerTokens: readonly string[];
  readonly basic: readonly BasicCredential[];
  readonly allowIps: readonly string[];
  readonly authorize: AuthorizeFn | undefined;
  readonly paths: readonly (string | RegExp)[];
  readonly publicPaths: readonly (string | RegExp)[];
  readonly failureLogIntervalMs: number;
}

/** Router paths protected by default. */
export const DEFAULT_PROTECTED_PATHS: readonly string[] = Object.freeze(['/metrics', '/health', '/dashboard', '/alerts']);
/** Router paths public by default. */
export const DEFAULT_PUBLIC_PATHS: readonly string[] = Object.freeze(['/health/live']);

const AUTH_KEYS = ['bearerTokens', 'basic', 'allowIps', 'authorize', 'paths', 'publicPaths', 'failureLogIntervalMs'] as const;

function readStrings(bag: Bag, key: string): readonly string[] {
  const v = bag[key];
  if (v === undefined) return Object.freeze([]);
  if (!Array.isArray(v)) typeError(`auth.${key}`, 'an array of strings', v);
  v.forEach((s: unknown, i: number) => {
    if (typeof s !== 'string' || s.length === 0) typeError(`auth.${key}[${i}]`, 'a non-empty string', s);
  });
  return Object.freeze([...(v as string[])]);
}

function readBasic(v: unknown): readonly BasicCredential[] {
  if (v === undefined) return Object.freeze([]);
  const list = Array.isArray(v) ? v : [v];
  return Object.freeze(
    list.map((c: unknown, i: number) => {
      const path = Array.isArray(v) ? `auth.basic[${i}]` : 'auth.basic';
      const b = readSection(c, path, ['username', 'password']);
      if (typeof b.username !== 'string' || b.username.length === 0 || b.username.includes(':')) {
        typeError(`${path}.username`, 'a non-empty string without ":"', b.username);
      }
      if (typeof b.password !== 'string' || b.password.length === 0) typeError(`${path}.password`, 'a non-empty string', b.password);
      return Object.freeze({ username: b.username, password: b.password });
    }),
  );
}

/** Validate the `auth` option; `undefined` when it is absent. */
export function resolveAuthOptions(raw: unknown): ResolvedAuthOptions | undefined {
  if (raw === undefined) return undefined;
  const a = readSection(raw, 'auth', AUTH_KEYS);
  const allowIps = readStrings(a, 'allowIps');
  allowIps.forEach((s, i) => {
    if (parseCidr(s) === undefined) typeError(`auth.allowIps[${i}]`, 'an IPv4/IPv6 address or CIDR', s);
  });
  const resolved: ResolvedAuthOptions = Object.freeze({
    bearerTokens: readStrings(a, 'bearerTokens'),
    basic: readBasic(a.basic),
    allowIps,
    authorize: readFunction<AuthorizeFn>(a, 'authorize', 'auth'),
    paths: readPatterns(a, 'paths', 'auth', DEFAULT_PROTECTED_PATHS),
    publicPaths: readPatterns(a, 'publicPaths', 'auth', DEFAULT_PUBLIC_PATHS),
    failureLogIntervalMs: readNumber(a, 'failureLogIntervalMs', 'auth', 10_000, { min: 0, integer: true }),
  });
  // An `auth` that admits everyone would still serve the views in production: an empty token list
  // read from an unset variable must not open them.
  if (resolved.bearerTokens.length === 0 && resolved.basic.length === 0 && resolved.allowIps.length === 0 && resolved.authorize === undefined) {
    typeError('auth', 'an object that sets at least one of bearerTokens, basic, allowIps or authorize (as given, it admits everyone)', raw);
  }
  return resolved;
}

interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged. */
export function unmapV4(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? (m[1] as string) : address;
}

/** Parse `addr` or `addr/prefix`; `undefined` when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const raw = slash === -1 ? text : text.slice(0, slash);
  const address = unmapV4(raw);
  const mapped = address !== raw;
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8.
    prefix = mapped ? Number(p) - 96 : Number(p);
    if (prefix < 0 || prefix > max) return undefined;
  }
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** Does `address` (v4, v6 or v4-mapped v6) fall in one of the CIDRs of `list`? */
export function createIpMatcher(list: readonly string[]): (address: string | undefined) => boolean {
  const blocks = new BlockList();
  for (const s of list) {
    const c = parseCidr(s);
    if (c) blocks.addSubnet(c.address, c.prefix, c.family);
  }
  return (address) => {
    if (!address) return false;
    const a = unmapV4(address);
    const v = isIP(a);
    if (v === 0) return false;
    return blocks.check(a, v === 4 ? 'ipv4' : 'ipv6');
  };
}

/** Constant-time string comparison (both sides hashed first, so lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Connect-style guard middleware. */
export type Guard = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** What a guard needs besides its options. */
export interface GuardParts {
  /** Called for every request the guard is responsible for (marks it as served by the router). */
  readonly mark: (req: IncomingMessage) => void;
  readonly reportError: (component: string, err: unknown) => void;
  /** Called for every refused request, with the reason (counted and logged). */
  readonly failed: (reason: AuthFailureReason, req: IncomingMessage) => void;
}

function deny(res: ServerResponse, status: 401 | 403, challenge: string | undefined): void {
  res.statusCode = status;
  if (challenge) res.setHeader('WWW-Authenticate', challenge);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(status === 401 ? '{"error":"unauthorized"}' : '{"error":"forbidden"}');
}

/** Path of the request relative to where the router is mounted. */
function routerPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const raw = q === -1 ? url : url.slice(0, q);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Build the access-control guard for the router's endpoints. */
export function createGuard(opts: ResolvedAuthOptions, parts: GuardParts): Guard {
  const ipAllowed = opts.allowIps.length > 0 ? createIpMatcher(opts.allowIps) : undefined;
  const needsCredential = opts.bearerTokens.length > 0 || opts.basic.length > 0 || opts.authorize !== undefined;
  const challenges = [
    ...(opts.bearerTokens.length > 0 ? ['Bearer realm="observability"'] : []),
    ...(opts.basic.length > 0 ? ['Basic realm="observability", charset="UTF-8"'] : []),
  ].join(', ');
  // A 401 must name a scheme the client can answer (RFC 9110 §15.5.2); `authorize` alone offers none.
  const denied: 401 | 403 = challenges ? 401 : 403;

  function credentialOk(header: string | undefined): boolean {
    if (!header) return false;
    const sp = header.indexOf(' ');
    if (sp === -1) return false;
    const scheme = header.slice(0, sp).toLowerCase();
    const value = header.slice(sp + 1).trim();
    if (scheme === 'bearer') {
      let ok = false;
      for (const t of opts.bearerTokens) ok = safeEqual(value, t) || ok;
      return ok;
    }
    if (scheme === 'basic' && opts.basic.length > 0) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) return false;
      const user = decoded.slice(0, colon);
      const pass = decoded.slice(colon + 1);
      // Both parts of every credential are compared, so the time taken does not tell a known user name.
      let ok = false;
      for (const c of opts.basic) {
        const userOk = safeEqual(user, c.username);
        const passOk = safeEqual(pass, c.password);
        ok = (userOk && passOk) || ok;
      }
      return ok;
    }
    return false;
  }

  function refuse(req: IncomingMessage, res: ServerResponse, status: 401 | 403, reason: AuthFailureReason): void {
    try {
      parts.failed(reason, req);
    } catch (err) {
      parts.reportError('auth.failures', err);
    }
    deny(res, status, status === 401 ? challenges || undefined : undefined);
  }

  // Express matches paths case-insensitively by default, so string patterns do too.
  const isProtected = pathMatcher(opts.paths, { prefix: true, ignoreCase: true });
  const isPublic = pathMatcher(opts.publicPaths, { prefix: true, ignoreCase: true });
  return (req, res, next) => {
    const path = routerPath(req);
    if (!(isProtected?.(path) ?? false) || (isPublic?.(path) ?? false)) {
      next();
      return;
    }
    parts.mark(req);
    const remote = (req as IncomingMessage & { ip?: string }).ip ?? req.socket.remoteAddress;
    if (ipAllowed && !ipAllowed(remote)) {
      refuse(req, res, 403, 'ip_not_allowed');
      return;
    }
    const header = req.headers.authorization;
    if (!needsCredential || credentialOk(header)) {
      next();
      return;
    }
    if (!opts.authorize) {
      refuse(req, res, 401, header ? 'invalid_credentials' : 'missing_credentials');
      return;
    }
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = opts.authorize(req);
    } catch (err) {
      parts.reportError('auth.authorize', err);
      refuse(req, res, 403, 'authorize_error');
      return;
    }
    Promise.resolve(verdict).then(
      (ok) => (ok === true ? next() : refuse(req, res, denied, 'authorize_denied')),
      (err: unknown) => {
        parts.reportError('auth.authorize', err);
        refuse(req, res, 403, 'authorize_error');
      },
    );
  };
}
