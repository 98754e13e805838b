/**
 * The `redaction` option: which keys count as secret, on top of (or instead of) the built-in
 * terms. One policy for logs, access lines, spans and the dashboard (docs/redaction.md).
 */
import { rangeError, readPatterns, readSection, typeError, type Bag } from '../util/validate';

/** Options of the redaction policy shared by logs, spans, health output and the dashboard. */
export interface RedactionOptions {
  /**
   * Extra secret keys: strings (case-insensitive; a key is secret when its last words are the
   * string's words, so `'customerNote'` also covers `order.customer_note`) or RegExps (tested
   * against the whole key). Default `[]`.
   */
  readonly add?: readonly (string | RegExp)[];
  /**
   * Built-in terms to stop treating as secret, spelled as in {@link BUILTIN_SECRET_TERMS}
   * (`'session'`, `'session id'`, `'auth'`...). A term that is not built in is an error. Default `[]`.
   */
  readonly remove?: readonly string[];
}

/** Redaction options with defaults resolved (`logging.redact` merged into `add`). */
export interface ResolvedRedactionOptions {
  readonly add: readonly (string | RegExp)[];
  readonly remove: readonly string[];
}

/**
 * Built-in secret terms. A key is secret when its trailing words are a term's words: keys are
 * split into words at separators (`.`, `-`, `_`, spaces, brackets) and camelCase humps, trailing
 * numbers dropped, a final plural `s` ignored (`dbPassword`, `x-api-key`, `user[token]`,
 * `x-hub-signature-256`, `cookies`), never inside a word (`passenger`, `bypass`, `tokenizer`,
 * `author`) nor before another word (`sessionCount`, `passwordPolicy`).
 */
export const BUILTIN_SECRET_TERMS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pass',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'auth',
  'authorization',
  'cookie',
  'credential',
  'session',
  'session id',
  'sessionid',
  'sessid',
  'sid',
  'jwt',
  'api key',
  'apikey',
  'private key',
  'secret key',
  'signature',
  'sig',
  'csrf',
  'xsrf',
  'otp',
]);

/**
 * Built-in terms that also count at the end of a run-together lower-case word (`dbpassword`,
 * `accesstoken`, `jsessionid`, `phpsessid`): no English word ends in them by accident.
 */
export const RUN_TOGETHER_TERMS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'sessionid',
  'sessid',
  'cookie',
  'credential',
]);

/**
 * The words of a key: split at non-alphanumerics, camelCase humps and between letters and digits,
 * lower-cased, trailing numeric words dropped (`'X-Hub-Signature-256'` → `['x', 'hub', 'signature']`,
 * `'APIKey'` → `['api', 'key']`, `'password2'` → `['password']`).
 */
export function keyWords(key: string): string[] {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])/g, ' ')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  let end = words.length;
  while (end > 0 && (words[end - 1] === '' || /^\d+$/.test(words[end - 1] as string))) end--;
  return words.slice(0, end).filter((w) => w !== '');
}

/** A term in canonical form (its words joined by one space), or `''` when it has no letters or digits. */
export function canonicalTerm(term: string): string {
  return keyWords(term).join(' ');
}

const KEYS = ['add', 'remove'] as const;

function readRemove(bag: Bag): readonly string[] {
  const v = bag.remove;
  if (v === undefined) return Object.freeze([]);
  if (!Array.isArray(v)) typeError('redaction.remove', 'an array of strings', v);
  const builtin = new Set(BUILTIN_SECRET_TERMS);
  return Object.freeze(
    v.map((item: unknown, i: number) => {
      if (typeof item !== 'string') typeError(`redaction.remove[${i}]`, 'a string', item);
      const term = canonicalTerm(item);
      if (!builtin.has(term)) rangeError(`redaction.remove[${i}]`, `a built-in term (${BUILTIN_SECRET_TERMS.join(', ')})`, item);
      return term;
    }),
  );
}

function checkAdd(list: readonly (string | RegExp)[], path: string): void {
  list.forEach((item, i) => {
    if (typeof item === 'string' && canonicalTerm(item) === '' && item.trim() === '') rangeError(`${path}[${i}]`, 'a non-blank key', item);
  });
}

/**
 * Validate `redaction` and merge the older `logging.redact` list (same meaning as `redaction.add`,
 * kept for compatibility) into `add`.
 */
export function resolveRedactionOptions(section: unknown, loggingRedact: readonly (string | RegExp)[]): ResolvedRedactionOptions {
  const r = readSection(section, 'redaction', KEYS);
  const add = readPatterns(r, 'add', 'redaction', Object.freeze([]));
  checkAdd(add, 'redaction.add');
  checkAdd(loggingRedact, 'logging.redact');
  return Object.freeze({ add: Object.freeze([...loggingRedact, ...add]), remove: readRemove(r) });
}
