/**
 * Route template resolution without patching Express.
 *
 * `req.route.path` is the template of the matched route *within its router*,
 * but `req.baseUrl` holds the *values* the mount paths matched
 * (`/shops/42/items`), so `req.baseUrl + req.route.path` leaks ids. Instead we
 * find the chain of `use()` layers that leads from the application's router to
 * `req.route` (a depth-first walk of the router stacks, cached per route), then
 * replay that chain over `req.baseUrl`: every layer yields the part of the base
 * URL it consumed *and* its template (Express 5 keeps the raw path on the
 * layer; for Express 4 we substitute `:key` for each parameter's capture
 * group). Works for Express 4 and 5, nested routers, parameterised mounts,
 * arrays of paths, regex routes and mounted sub-applications.
 */

/** Matcher signature of router@2 (Express 5) layers. */
type Matcher = (path: string) => false | { path: string; params: Record<string, unknown> };

/** The parts of an Express 4 or 5 router layer that we read (never write). */
interface LayerLike {
  readonly handle?: unknown;
  readonly route?: unknown;
  readonly regexp?: RegExp & { fast_slash?: boolean; fast_star?: boolean };
  readonly keys?: ReadonlyArray<{ name: string | number }>;
  readonly matchers?: readonly Matcher[];
  readonly rawPath?: unknown;
  readonly slash?: boolean;
}

interface RouteLike {
  readonly path: unknown;
}

interface AppLike {
  readonly _router?: { stack?: unknown };
  readonly router?: { stack?: unknown };
  readonly parent?: AppLike;
  readonly mountpath?: unknown;
}

/** The fields of a request that route resolution reads. */
export interface RoutableRequest {
  readonly route?: unknown;
  readonly baseUrl?: string;
  readonly app?: unknown;
  readonly url?: string;
  readonly originalUrl?: string;
}

interface Step {
  consumed: string;
  template: string;
}

type Chain = readonly LayerLike[];

interface RouteCache {
  chains: Chain[];
  byBase: Map<string, string>;
}

const MAX_DEPTH = 24;
const MAX_CHAINS = 16;
const MAX_BASES_PER_ROUTE = 64;

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

function indexed(re: RegExp): RegExp {
  let d = withIndices.get(re);
  if (!d) {
    d = new RegExp(re.source, re.flags.replace(/[gyd]/g, '') + 'd');
    withIndices.set(re, d);
  }
  return d;
}

function stripSlash(s: string): string {
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s === '/' ? '' : s;
}

/** Consume a mount layer's prefix of `path`; null when it does not match. */
function consume(layer: LayerLike, path: string): Step | null {
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

function stackOf(handle: unknown): readonly LayerLike[] | undefined {
  if ((typeof handle === 'function' || typeof handle === 'object') && handle !== null) {
    const stack = (handle as { stack?: unknown }).stack;
    if (Array.isArray(stack)) return stack as LayerLike[];
  }
  return undefined;
}

function appStack(app: AppLike): readonly LayerLike[] | undefined {
  // Express 4 keeps the router in `_router`; Express 5 in the lazy `router` getter.
  return stackOf(app._router) ?? stackOf(app.router);
}

function findChains(stack: readonly LayerLike[], path: string, route: unknown, chain: LayerLike[], out: Chain[], depth: number): void {
  if (depth > MAX_DEPTH || out.length >= MAX_CHAINS) return;
  for (const layer of stack) {
    if (layer.route !== undefined) {
      if (layer.route === route && path === '') out.push([...chain]);
      continue;
    }
    const inner = stackOf(layer.handle);
    if (!inner) continue;
    const step = consume(layer, path);
    if (!step) continue;
    const rest = path.slice(step.consumed.length);
    if (rest !== '' && !rest.startsWith('/')) continue;
    chain.push(layer);
    findChains(inner, rest, route, chain, out, depth + 1);
    chain.pop();
  }
}

function replay(chain: Chain, path: string): string | null {
  let template = '';
  let rest = path;
  for (const layer of chain) {
    const step = consume(layer, rest);
    if (!step) return null;
    rest = rest.slice(step.consumed.length);
    template += step.template;
  }
  return rest === '' ? template : null;
}

/**
 * Resolves route templates for one instance. The cache is keyed by Express's
 * own Route objects (a WeakMap), so routers that are dropped are collected.
 */
export class RouteResolver {
  readonly #cache = new WeakMap<object, RouteCache>();

  /** The full route template of a request that matched a route, else undefined. */
  resolve(req: RoutableRequest): string | undefined {
    const route = req.route as RouteLike | undefined;
    if (!route || typeof route !== 'object') return undefined;
    const base = req.baseUrl ?? '';
    const app = req.app as AppLike | undefined;
    const routeTemplate = pathTemplate(route.path, arrayRemainder(route.path, req, base));
    if (base === '' && !app?.parent) return routeTemplate || '/';
    const prefix = this.#prefix(route, base, app);
    if (prefix === undefined) return undefined;
    const joined = routeTemplate === '/' || routeTemplate === '' ? prefix : prefix + routeTemplate;
    return joined || '/';
  }

  #prefix(route: object, base: string, app: AppLike | undefined): string | undefined {
    let entry = this.#cache.get(route);
    if (!entry) {
      entry = { chains: [], byBase: new Map() };
      this.#cache.set(route, entry);
    }
    const hit = entry.byBase.get(base);
    if (hit !== undefined) return hit;

    // Mounted sub-applications: their mount templates come from app.mountpath.
    let appPrefix = '';
    let rest = base;
    if (app?.parent) {
      const mounts: unknown[] = [];
      for (let a: AppLike | undefined = app; a?.parent; a = a.parent) mounts.unshift(a.mountpath);
      for (const mount of mounts) {
        const tpl = pathTemplate(mount);
        const m = typeof mount === 'string' ? compileTemplate(mount, false).exec(rest) : null;
        if (!m) return undefined;
        appPrefix += stripSlash(tpl);
        rest = rest.slice(stripSlash(m[0]).length);
      }
    }
    let found: string | null = null;
    for (const chain of entry.chains) {
      found = replay(chain, rest);
      if (found !== null) break;
    }
    if (found === null && app) {
      const stack = appStack(app);
      if (stack) {
        const chains: Chain[] = [];
        findChains(stack, rest, route, [], chains, 0);
        entry.chains = chains;
        for (const chain of chains) {
          found = replay(chain, rest);
          if (found !== null) break;
        }
      }
    }
    if (found === null) return undefined;
    const prefix = appPrefix + found;
    if (entry.byBase.size >= MAX_BASES_PER_ROUTE) entry.byBase.clear();
    entry.byBase.set(base, prefix);
    return prefix;
  }
}

function arrayRemainder(path: unknown, req: RoutableRequest, base: string): string | undefined {
  if (!Array.isArray(path)) return undefined;
  const url = req.originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  return p.startsWith(base) ? p.slice(base.length) || '/' : p;
}
