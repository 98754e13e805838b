/** A compiled list of path patterns: true when a path matches one of them. */
export type PathMatcher = (path: string) => boolean;

/** How string patterns match (RegExps are always tested on the path as given). */
export interface PathMatchOptions {
  /**
   * A string also matches every path below it (`/metrics` matches `/metrics/x`, not `/metricsx`).
   * Default `false`: strings match the exact path.
   */
  readonly prefix?: boolean;
  /** Strings match regardless of case, as Express routes do by default. Default `false`. */
  readonly ignoreCase?: boolean;
}

/**
 * Compile a list of path patterns (`metrics.excludePaths`, `logging.accessLog.skipPaths`,
 * `auth.paths`, ...) once: strings match exactly (or, with `prefix`, as a path prefix), RegExps are
 * tested on the path (without their `g` and `y` flags, which would make the test stateful). `undefined` for an empty list, so a caller can skip computing the path at all.
 */
export function pathMatcher(patterns: readonly (string | RegExp)[], options: PathMatchOptions = {}): PathMatcher | undefined {
  if (patterns.length === 0) return undefined;
  const fold = options.ignoreCase === true ? (s: string): string => s.toLowerCase() : (s: string): string => s;
  const strings = patterns.filter((p): p is string => typeof p === 'string').map(fold);
  // A global or sticky RegExp's `test` resumes from its `lastIndex`: it would miss every other path.
  const regexps = patterns.filter((p): p is RegExp => p instanceof RegExp).map((re) => (re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re));
  const exact = new Set(strings);
  const prefixes = options.prefix === true ? strings.map((s) => (s.endsWith('/') ? s : `${s}/`)) : [];
  return (path) => {
    const p = fold(path);
    if (exact.has(p)) return true;
    for (const pre of prefixes) if (p.startsWith(pre)) return true;
    for (const re of regexps) if (re.test(path)) return true;
    return false;
  };
}
