/**
 * The instance's redaction policy, applied by everything that lets data leave the process:
 * the logger and access lines, span attributes, events, exceptions and status (before export
 * and before the dashboard's ring), health output and internal warnings. Keys are classified
 * once and cached; strings are scanned only when a cheap test says they could hold a secret.
 */
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { BUILTIN_SECRET_TERMS, canonicalTerm, keyWords, RUN_TOGETHER_TERMS, type ResolvedRedactionOptions } from './options';

/** Replacement text for redacted values. */
export const REDACTED = '[REDACTED]';

/** Classified keys kept per instance; cleared when full so hostile keys cannot grow it forever. */
const KEY_CACHE_MAX = 10_000;
/**
 * `key: "value"`, `"key": "value"`, `key: 'value'` (JSON, util.inspect, which quotes with backticks a
 * string holding both kinds of quote); unquoted values are prose, not matched.
 */
const COLON_PAIR = /(?<![\w$"'-])(["']?)([A-Za-z_$][\w$.-]{0,127})\1[ \t]*:[ \t]*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\\n]|\\.)*`)/g;
/** The password of a URL's userinfo (`postgres://app:pw@db`), up to the last `@` before the host, as URL parsers read it (`app:p@ss@db`). */
const USERINFO = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s:/?#@]*):([^\s/?#]+)@/gi;
/**
 * A JSON Web Token anywhere: at the start of a word, or right after a percent-escape (`id_token%3DeyJ…`
 * in an encoded URL). Not inside a word: every `eyJ` of `eyJeyJeyJ…` would start a scan to the word's
 * end, quadratic in its length.
 */
const JWT = /(?:(?<![\w-])|(?<=%[0-9A-Fa-f]{2}))eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*/g;
/**
 * `Bearer <token>`, also with its space encoded in a URL (`Bearer%20…`, `Bearer+…`); the token must be
 * at least 16 characters with a digit (so prose like "Bearer authentication" stays).
 */
const BEARER = /\b(bearer(?:\s+|%20|\+))([\w\-.~+/]{16,}=*)/gi;
/** Could `s` hold anything {@link Redactor.text} redacts? One test instead of one per rule. */
const MAYBE = /=|:[ \t]*["'`]|:\/\/|eyJ|[Bb]earer|BEARER/;
/** Could `s` hold anything but `name=value` pairs? (`:` alone, as in `/users/:id`, does not count.) */
const OTHER = /:[ \t]*["'`]|:\/\/|eyJ|[Bb]earer|BEARER/;
/**
 * Attributes the package sets from a fixed vocabulary (methods, schemes, addresses, route
 * templates): neither their keys nor their values can be secret, so the span processor skips them.
 */
const PLAIN_ATTRIBUTES: ReadonlySet<string> = new Set([
  'http.request.method',
  'http.method',
  'url.scheme',
  'http.scheme',
  'server.address',
  'server.port',
  'client.address',
  'network.protocol.version',
  'http.route',
  'http.response.status_code',
  'http.status_code',
  'error.type',
]);
/** An OAuth 2.0 authorization response in a query string: `code` and `state` both present. */
const OAUTH_CODE = /(?:^|[?&;])code=[^&;\s]/;
const OAUTH_STATE = /(?:^|[?&;])state=/;

/** Redact what a key or a piece of text could leak, by one policy. */
export class Redactor {
  readonly #terms: ReadonlySet<string>;
  readonly #maxWords: number;
  readonly #runTogether: readonly string[];
  readonly #exact: ReadonlySet<string>;
  readonly #patterns: readonly RegExp[];
  readonly #cache = new Map<string, boolean>();
  readonly #colonPair: (match: string, quote: string, key: string, value: string) => string;

  /** A policy of the built-in terms plus `add`, minus `remove` (options already validated). */
  constructor(options: ResolvedRedactionOptions = { add: [], remove: [] }) {
    const removed = new Set(options.remove.map(canonicalTerm));
    const terms = new Set(BUILTIN_SECRET_TERMS.filter((t) => !removed.has(t)));
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    for (const a of options.add) {
      if (a instanceof RegExp) patterns.push(new RegExp(a.source, a.flags.replace(/[gy]/g, '')));
      else {
        const t = canonicalTerm(a);
        if (t !== '') terms.add(t);
        exact.add(a.toLowerCase());
      }
    }
    this.#terms = terms;
    this.#maxWords = Math.max(1, ...[...terms].map((t) => t.split(' ').length));
    this.#runTogether = RUN_TOGETHER_TERMS.filter((t) => !removed.has(t));
    this.#exact = exact;
    this.#patterns = patterns;
    this.#colonPair = (match, _quote, key, value) => (this.key(key) ? `${match.slice(0, match.length - value.length)}${value.charAt(0)}${REDACTED}${value.charAt(0)}` : match);
  }

  /** True when values under `key` are secret (memoised per key). */
  key(key: string): boolean {
    let v = this.#cache.get(key);
    if (v === undefined) {
      v = this.#classify(key);
      if (this.#cache.size >= KEY_CACHE_MAX) this.#cache.clear();
      this.#cache.set(key, v);
    }
    return v;
  }

  #classify(key: string): boolean {
    if (this.#exact.has(key.toLowerCase())) return true;
    for (const p of this.#patterns) if (p.test(key)) return true;
    const words = keyWords(key);
    const n = words.length;
    if (n === 0) return false;
    const last = words[n - 1] as string;
    const singular = last.length > 3 && last.endsWith('s') ? last.slice(0, -1) : undefined;
    for (let k = 1; k <= Math.min(this.#maxWords, n); k++) {
      const head = k === 1 ? '' : `${words.slice(n - k, n - 1).join(' ')} `;
      if (this.#terms.has(head + last)) return true;
      if (singular !== undefined && this.#terms.has(head + singular)) return true;
    }
    for (const t of this.#runTogether) if (last.endsWith(t) || singular?.endsWith(t)) return true;
    return false;
  }

  /**
   * `s` with secrets replaced: values of secret `name=value` pairs (query strings split on `&`
   * and `;`, matrix parameters, `password=...` in prose), quoted `name: "value"` pairs, URL
   * passwords, bearer tokens and JWTs; `code` and `state` of an OAuth callback query. Returns `s`
   * itself when nothing changed.
   */
  text(s: string): string {
    if (!MAYBE.test(s)) return s;
    let out = s.includes('=') ? this.#pairs(s) : s;
    if (!OTHER.test(s)) return out;
    if (s.includes(':')) {
      if (s.includes('"') || s.includes("'") || s.includes('`')) out = out.replace(COLON_PAIR, this.#colonPair);
      if (s.includes('@') && s.includes('://')) out = out.replace(USERINFO, `$1$2:${REDACTED}@`);
    }
    if (s.includes('eyJ')) out = out.replace(JWT, REDACTED);
    if (s.includes('earer') || s.includes('EARER')) out = out.replace(BEARER, bearer);
    return out;
  }

  /**
   * Values of secret `name=value` pairs in `s` replaced. A name is the run of name characters
   * (letters, digits, `_ . % + [ ] -`) before the `=`; a value runs to the next whitespace, `&` or
   * `;`, or is quoted. The value of a pair that is not secret is scanned too (`next=/cb?token=x`).
   * One pass; allocates only when something is replaced.
   */
  #pairs(s: string): string {
    let out = '';
    let last = 0;
    let oauth: boolean | undefined;
    let eq = s.indexOf('=');
    while (eq !== -1) {
      let keyEnd = eq;
      while (keyEnd > last && isBlank(s.charCodeAt(keyEnd - 1))) keyEnd--;
      let keyStart = keyEnd;
      let encoded = false;
      for (let c = s.charCodeAt(keyStart - 1); keyStart > last && isNameChar(c); c = s.charCodeAt(--keyStart - 1)) {
        if (c === 37 || c === 43) encoded = true;
      }
      let v = eq + 1;
      while (v < s.length && isBlank(s.charCodeAt(v))) v++;
      if (keyStart < keyEnd && v < s.length && s.charCodeAt(v) !== 61) {
        const end = valueEnd(s, v);
        const raw = s.slice(keyStart, keyEnd);
        const key = encoded ? decodeKey(raw) : raw;
        let secret = end > v && this.key(key);
        if (!secret && end > v && (key === 'code' || key === 'state')) {
          oauth ??= OAUTH_CODE.test(s) && OAUTH_STATE.test(s);
          secret = oauth;
        }
        if (secret) {
          out += `${s.slice(last, v)}${REDACTED}`;
          last = end;
          eq = s.indexOf('=', end);
          continue;
        }
      }
      eq = s.indexOf('=', eq + 1);
    }
    return last === 0 ? s : out + s.slice(last);
  }

  /** One span attribute: a secret key's value becomes {@link REDACTED}, strings are scanned. Same value when unchanged. */
  attribute(key: string, value: AttributeValue): AttributeValue {
    if (PLAIN_ATTRIBUTES.has(key)) return value;
    if (this.key(key)) return value === REDACTED ? value : REDACTED;
    if (typeof value === 'string') return this.text(value);
    if (!Array.isArray(value)) return value;
    let out: AttributeValue | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'string') continue;
      const r = this.text(v);
      if (r !== v) {
        out ??= [...(value as string[])];
        (out as string[])[i] = r;
      }
    }
    return out ?? value;
  }

  /** Redact `attrs` in place (an object the SDK or this package owns); true when anything changed. */
  attributesInPlace(attrs: Attributes): boolean {
    let changed = false;
    for (const key of Object.keys(attrs)) {
      const v = attrs[key];
      if (v === undefined || v === null) continue;
      const r = this.attribute(key, v);
      if (r !== v) {
        attrs[key] = r;
        changed = true;
      }
    }
    return changed;
  }

  /** A redacted copy of caller-owned `attrs` (the same object when nothing is secret). */
  attributes(attrs: Attributes | undefined): Attributes | undefined {
    if (attrs === undefined) return undefined;
    const copy = { ...attrs };
    return this.attributesInPlace(copy) ? copy : attrs;
  }
}

/** A percent-encoded query key decoded (`api%5Fkey` → `api_key`, `+` → space). */
function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    // Malformed percent-encoding: judge the key as written (still redacted when it looks secret).
    return key;
  }
}

/** Space or tab. */
function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** A character of a pair's name: `[A-Za-z0-9_.%+[\]-]`. */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45 || c === 37 || c === 43 || c === 91 || c === 93;
}

/** End of the value starting at `v`: a quoted value through its closing quote (same line), else up to whitespace, `&` or `;`. */
function valueEnd(s: string, v: number): number {
  const q = s.charCodeAt(v);
  if (q === 34 || q === 39) {
    for (let i = v + 1; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === q) return i + 1;
      if (c === 10) break;
    }
  }
  let i = v;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 38 || c === 59 || c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) break;
  }
  return i;
}

function bearer(match: string, scheme: string, token: string): string {
  return /\d/.test(token) ? `${scheme}${REDACTED}` : match;
}
