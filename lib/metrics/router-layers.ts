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
        if (p instanceof RegExp && p.test(actual)) return String(p);
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
    const m = indexed(layer.regexp).exec(path);
    if (!m) return null;
    const whole = m[0];
    const indices = m.indices;
    let out = '';
    let cursor = 0;
    if (indices) {
      for (let g = 1; g < indices.length; g++) {
        const span = indices[g];
        if (!span || span[0] < cursor) continue;
        const key = layer.keys?.[g - 1];
        out += whole.slice(cursor, span[0]) + (key && typeof key.name === 'string' ? `:${key.name}` : '*');
        cursor = span[1];
      }
    }
    out += whole.slice(cursor);
    return { consumed: stripSlash(whole), template: stripSlash(out) };
  }
  return null;
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
