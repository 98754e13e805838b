/**
 * Reading Express 4 and 5 router layers (never writing them): what prefix of a path a mount layer
 * consumes and the template it stands for, whether a route's own layer matches the rest of a path,
 * and the router stack behind a layer or an application.
 */

/** Matcher signature of router@2 (Express 5) layers. */
export type Matcher = (path: string) => false | { path: string; params: Record<string, unknown> };

/** The parts of an Express 4 or 5 router layer that we read (never write). */
export interface LayerLike {
  readonly handle?: unknown;
  readonly route?: unknown;
  readonly regexp?: RegExp & { fast_slash?: boolean; fast_star?: boolean };
  readonly keys?: ReadonlyArray<{ name: string | number }>;
  readonly matchers?: readonly Matcher[];
  readonly rawPath?: unknown;
  readonly slash?: boolean;
}

/** The part of an Express Route that we read. */
export interface RouteLike {
  readonly path: unknown;
}

/** What a mount layer consumed of a path, and the template it stands for. */
export interface Step {
  readonly consumed: string;
  readonly template: string;
}

/** The parts of an Express application that we read. */
export interface AppLike {
  readonly _router?: { stack?: unknown };
  readonly router?: { stack?: unknown };
  readonly parent?: AppLike;
  readonly mountpath?: unknown;
}

/** Render a route path (string, RegExp or array of them) as one label. */
export function pathTemplate(path: unknown, actual?: string): string {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) {
    if (actual !== undefined) {
      for (const p of path) {
        if (typeof p === 'string' && compileTemplate(p, true).test(actual)) return p;
        if (p instanceof RegExp && indexed(p).test(actual)) return String(p);
      }
    }
    return path.map((p) => pathTemplate(p)).join(',');
  }
  return String(path);
}

const compiled = new Map<string, RegExp>();

/**
 * Compile an Express-style template (`/users/:id`, `/files/*`, `/a/:b?`) to a
 * RegExp; `end` anchors it at the end, otherwise it matches a path prefix.
 */
export function compileTemplate(template: string, end: boolean): RegExp {
  const key = `${end ? 1 : 0}${template}`;
  let re = compiled.get(key);
  if (re) return re;
  let src = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c === ':') {
      const m = /^:([A-Za-z0-9_$]+)(\?)?/.exec(template.slice(i));
      if (m) {
        src += m[2] ? '[^/]*' : '[^/]+';
        i += m[0].length - 1;
        continue;
      }
    }
    if (c === '*') {
      src += '.*';
      continue;
    }
    src += c.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
  }
  re = new RegExp(`^${src}${end ? '/?$' : '(?=/|$)'}`, 'i');
  if (compiled.size < 1024) compiled.set(key, re);
  return re;
}

const withIndices = new WeakMap<RegExp, RegExp>();

/** A copy of `re` with match indices and without global/sticky state (cached per RegExp). */
function indexed(re: RegExp): RegExp {
  let d = withIndices.get(re);
  if (!d) {
    d = new RegExp(re.source, re.flags.replace(/[gyd]/g, '') + 'd');
    withIndices.set(re, d);
  }
  return d;
}

export function stripSlash(s: string): string {
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s === '/' ? '' : s;
}

/** Consume a mount layer's prefix of `path`; null when it does not match. */
export function consume(layer: LayerLike, path: string): Step | null {
  if (layer.slash === true || layer.regexp?.fast_slash === true) return { consumed: '', template: '' };
  if (Array.isArray(layer.matchers)) {
    for (let i = 0; i < layer.matchers.length; i++) {
      const m = (layer.matchers[i] as Matcher)(path);
      if (!m) continue;
      const raw = Array.isArray(layer.rawPath) ? (layer.rawPath as unknown[])[i] : layer.rawPath;
      const template =
        typeof raw === 'string' ? raw : raw instanceof RegExp ? String(raw) : substitute(m.path, m.params);
      return { consumed: stripSlash(m.path), template: stripSlash(template) };
    }
    return null;
  }
  if (layer.regexp instanceof RegExp) {
    // Express 4: the layer keeps only the RegExp its path compiled to. The template is read from that
    // RegExp, never from the matched text (which holds the client's letter case, and the values of a
    // RegExp mount's uncaptured parts); the application's own RegExp is named as written, as on Express 5.
    const m = indexed(layer.regexp).exec(path);
    if (!m) return null;
    const alternatives = declaredPaths(layer.regexp, layer.keys ?? []);
    if (alternatives === UNREADABLE) return { consumed: stripSlash(m[0]), template: stripSlash(substituted(m, layer)) };
    const declared = alternatives === null ? undefined : alternatives.length === 1 ? alternatives[0] : alternatives.find((a) => a.re.test(path));
    return { consumed: stripSlash(m[0]), template: stripSlash(declared === undefined ? String(layer.regexp) : declared.template) };
  }
  return null;
}

/**
 * The template of a path-to-regexp mount whose compiled form {@link readTemplate} does not read
 * (`/files-:id`, `/:from-:to`, `/tree/:path*`): the matched text with each captured part replaced by its
 * parameter, its other parts lower-cased when the match ignores case (so the client's letter case
 * makes no new series).
 */
function substituted(m: RegExpExecArray, layer: LayerLike): string {
  const whole = m[0];
  const literal = (text: string): string => (layer.regexp?.ignoreCase ? text.toLowerCase() : text);
  const indices = m.indices;
  let out = '';
  let cursor = 0;
  if (indices) {
    for (let g = 1; g < indices.length; g++) {
      const span = indices[g];
      if (!span || span[0] < cursor) continue;
      const key = layer.keys?.[g - 1];
      out += literal(whole.slice(cursor, span[0])) + (key && typeof key.name === 'string' ? `:${key.name}` : '*');
      cursor = span[1];
    }
  }
  return out + literal(whole.slice(cursor));
}

/** One path of an Express 4 mount (an array mount has several): its own RegExp and its template. */
interface DeclaredPath {
  readonly re: RegExp;
  readonly template: string;
}

/** A mount path-to-regexp compiled into a form {@link readTemplate} does not read. */
const UNREADABLE = 'unreadable';
const declaredByRegExp = new WeakMap<RegExp, readonly DeclaredPath[] | null | typeof UNREADABLE>();
/** What Express 4's path-to-regexp 0.1 appends to a mount path (not strict, not anchored at the end). */
const MOUNT_END = '\\/?(?=\\/|$)';

/**
 * The paths an Express 4 mount layer's RegExp was compiled from (path-to-regexp 0.1: `^\/a(?:\/([^/]+?))\/?(?=\/|$)`
 * for `/a/:b`, alternatives joined by `|` for an array); null when it is not one of those (the
 * application's own RegExp); {@link UNREADABLE} for one of a form it does not read. Cached per RegExp.
 */
function declaredPaths(re: RegExp, keys: ReadonlyArray<{ name: string | number }>): readonly DeclaredPath[] | null | typeof UNREADABLE {
  const cached = declaredByRegExp.get(re);
  if (cached !== undefined) return cached;
  let paths: DeclaredPath[] | null | typeof UNREADABLE = [];
  let key = 0;
  for (const alternative of splitAlternatives(re.source)) {
    if (!alternative.startsWith('^') || !alternative.endsWith(MOUNT_END)) {
      paths = null;
      break;
    }
    const body = alternative.slice(1, alternative.length - MOUNT_END.length);
    const read = readTemplate(body, keys, key);
    if (read === null) {
      paths = UNREADABLE;
      break;
    }
    key = read.nextKey;
    paths.push({ re: new RegExp(alternative, re.flags.replace(/[gyd]/g, '')), template: read.template });
  }
  if (Array.isArray(paths) && paths.length === 0) paths = null;
  declaredByRegExp.set(re, paths);
  return paths;
}

/** `source` split at its top-level `|` (outside groups, classes and escapes). */
function splitAlternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

/** Index of the `)` closing the group whose `(` is at `open`; -1 when unbalanced. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/**
 * The template of one compiled path: escaped characters are the path's own, `(?:\/(…))` (or `(?:\.(…))`) is a
 * parameter (`?` after it: optional), `(.*)` a `*`. Anything else is not path-to-regexp's: null.
 */
function readTemplate(body: string, keys: ReadonlyArray<{ name: string | number }>, firstKey: number): { template: string; nextKey: number } | null {
  let out = '';
  let key = firstKey;
  let i = 0;
  while (i < body.length) {
    const c = body[i] as string;
    if (c === '\\') {
      out += body[i + 1] ?? '';
      i += 2;
    } else if (body.startsWith('(?:\\', i) && body[i + 5] === '(') {
      // `(?:\/(…))` for `/:name`, `(?:\.(…))` for `.:name`.
      const prefix = body[i + 4] as string;
      const close = closingParen(body, i + 5);
      if (close === -1 || body[close + 1] !== ')') return null;
      const name = keys[key++]?.name;
      if (name === undefined) return null;
      i = close + 2;
      const optional = body[i] === '?';
      if (optional) i++;
      out += `${prefix}:${String(name)}${optional ? '?' : ''}`;
    } else if (body.startsWith('(.*)', i)) {
      key++;
      out += '*';
      i += 4;
    } else if ('()[]{}*+?.|$^'.includes(c)) {
      return null;
    } else {
      out += c;
      i++;
    }
  }
  return { template: out, nextKey: key };
}

function substitute(matched: string, params: Record<string, unknown>): string {
  let out = matched;
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string' && v.length > 0) out = out.replace(v, `:${k}`);
  }
  return out;
}

export function stackOf(handle: unknown): readonly LayerLike[] | undefined {
  if ((typeof handle === 'function' || typeof handle === 'object') && handle !== null) {
    const stack = (handle as { stack?: unknown }).stack;
    if (Array.isArray(stack)) return stack as LayerLike[];
  }
  return undefined;
}

export function appStack(app: AppLike): readonly LayerLike[] | undefined {
  // Express 4 keeps the router in `_router`; Express 5 in the lazy `router` getter.
  return stackOf(app._router) ?? stackOf(app.router);
}


/** True when `layer` is the one Express adds for `app.use(path, subApp)` (its sub-app is out of reach). */
export function isMountedApp(layer: LayerLike): boolean {
  return typeof layer.handle === 'function' && (layer.handle as { name?: unknown }).name === 'mounted_app';
}

/** True when the route layer `layer` (Express 4 or 5) matches all of `path`. */
export function routeLayerMatches(layer: LayerLike, path: string): boolean {
  if (Array.isArray(layer.matchers)) {
    for (const m of layer.matchers) if ((m as Matcher)(path) !== false) return true;
    return false;
  }
  const re = layer.regexp;
  if (!(re instanceof RegExp)) return false;
  if (re.fast_star === true) return true;
  return indexed(re).test(path);
}

/** True when a route path (string, RegExp or array of them) matches all of `path`, by our own reading of its template. */
export function routePathMatches(routePath: unknown, path: string): boolean {
  if (typeof routePath === 'string') return compileTemplate(routePath, true).test(path);
  if (routePath instanceof RegExp) return indexed(routePath).test(path);
  if (Array.isArray(routePath)) return routePath.some((p) => routePathMatches(p, path));
  return false;
}
