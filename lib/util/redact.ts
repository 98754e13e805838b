/**
 * Secret redaction shared by spans and logs: header names, object keys and
 * query parameters that look like credentials are replaced by {@link REDACTED}.
 */

/** Replacement text for redacted values. */
export const REDACTED = '[REDACTED]';

/** Keys (case-insensitive, exact) always treated as secret. */
export const DEFAULT_SECRET_KEYS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api_key',
  'apikey',
  'api-key',
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'session',
  'sessionid',
  'jwt',
  'private_key',
  'x-auth-token',
  'x-csrf-token',
]);

/** Substrings that make any key secret-like (`dbPassword`, `githubToken`, `x-secret-header`). */
const SECRET_FRAGMENTS = /pass(word|wd)?|secret|token|api[-_]?key|auth|cookie|credential|session|signature|private/i;

/** Builds a predicate for secret keys from the defaults plus `extra` names or patterns. */
export function secretKeyMatcher(extra: readonly (string | RegExp)[] = []): (key: string) => boolean {
  const exact = new Set([...DEFAULT_SECRET_KEYS, ...extra.filter((e): e is string => typeof e === 'string').map((e) => e.toLowerCase())]);
  const patterns = extra.filter((e): e is RegExp => e instanceof RegExp);
  return (key: string): boolean => {
    const k = key.toLowerCase();
    if (exact.has(k)) return true;
    if (SECRET_FRAGMENTS.test(k)) return true;
    for (const p of patterns) if (p.test(key)) return true;
    return false;
  };
}

const defaultMatcher = secretKeyMatcher();

/**
 * Redact secret-looking parameters of a query string (without the leading `?`).
 * Keeps the order and the non-secret values byte for byte.
 */
export function redactQuery(query: string, isSecret: (key: string) => boolean = defaultMatcher): string {
  if (query === '') return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq === -1 ? pair : pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // Malformed percent-encoding: judge the raw key instead (still redacted if it looks secret).
        key = rawKey;
      }
      return eq !== -1 && isSecret(key) ? `${rawKey}=${REDACTED}` : pair;
    })
    .join('&');
}

/** Redact the query part of a URL path (`/a?token=x&b=1` → `/a?token=[REDACTED]&b=1`). */
export function redactUrl(url: string, isSecret: (key: string) => boolean = defaultMatcher): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  return `${url.slice(0, q)}?${redactQuery(url.slice(q + 1), isSecret)}`;
}
