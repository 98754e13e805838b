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
 *
 * A request whose handler failed (a throw, a rejection, `next(err)`) leaves the
 * routers it went through: Express restores `req.baseUrl` on the way out but
 * keeps `req.route`, so at completion the base no longer leads to the route.
 * Then the chain is found over the whole request path instead, ending with the
 * route's own layer matching what the mounts left (see {@link RouteResolver}).
 */
import {
  appStack,
  consume,
  isMountedApp,
  pathTemplate,
  compileTemplate,
  routeLayerMatches,
  routePathMatches,
  stackOf,
  stripSlash,
  type AppLike,
  type LayerLike,
  type RouteLike,
} from './router-layers';
import { pathOf } from '../util/request-facts';

export { compileTemplate, pathTemplate };

/** The fields of a request that route resolution reads. */
export interface RoutableRequest {
  readonly route?: unknown;
  readonly baseUrl?: string;
  readonly app?: unknown;
  readonly url?: string;
  readonly originalUrl?: string;
}

type Chain = readonly LayerLike[];

interface RouteCache {
  /** Mount chains that lead to the route with nothing of the path left (replayed over `req.baseUrl`). */
  chains: Chain[];
  /** Prefix template per base URL; null: the base does not lead to the route (the request left its router). */
  byBase: Map<string, string | null>;
  /** Chains over the whole path, ending with the route's own layer or the `mounted_app` layer of its sub-app. */
  escapes: Chain[];
}

/** A prefix template, and what of the path is left for the route itself. */
interface Resolved {
  readonly prefix: string;
  readonly rest: string;
}

/** Stands for the mount paths inside a sub-application that an error left (Express keeps the sub-app out of reach). */
export const HIDDEN_MOUNTS = '/…';

const MAX_DEPTH = 24;
const MAX_CHAINS = 16;
const MAX_BASES_PER_ROUTE = 64;

/** Consume one mount layer of `path`; the rest must start at a segment boundary. */
function step(layer: LayerLike, path: string): { template: string; rest: string } | null {
  const s = consume(layer, path);
  if (!s) return null;
  const rest = path.slice(s.consumed.length);
  if (rest !== '' && !rest.startsWith('/')) return null;
  return { template: s.template, rest };
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
    const s = step(layer, path);
    if (!s) continue;
    chain.push(layer);
    findChains(inner, s.rest, route, chain, out, depth + 1);
    chain.pop();
  }
}

function replay(chain: Chain, path: string): string | null {
  let template = '';
  let rest = path;
  for (const layer of chain) {
    const s = consume(layer, rest);
    if (!s) return null;
    rest = rest.slice(s.consumed.length);
    template += s.template;
  }
  return rest === '' ? template : null;
}

/** Chains over a whole path whose last layer is the route's own layer, or the `mounted_app` layer of a sub-app holding it. */
function findEscapes(stack: readonly LayerLike[], path: string, route: RouteLike, chain: LayerLike[], out: Chain[], depth: number): void {
  if (depth > MAX_DEPTH || out.length >= MAX_CHAINS) return;
  for (const layer of stack) {
    if (layer.route !== undefined) {
      if (layer.route === route && routeLayerMatches(layer, path || '/')) out.push([...chain, layer]);
      continue;
    }
    const inner = stackOf(layer.handle);
    const mountedApp = inner === undefined && isMountedApp(layer);
    if (!inner && !mountedApp) continue;
    const s = step(layer, path);
    if (!s) continue;
    if (mountedApp) {
      if (afterSubApp(route, s.rest) !== null) out.push([...chain, layer]);
      continue;
    }
    chain.push(layer);
    findEscapes(inner as readonly LayerLike[], s.rest, route, chain, out, depth + 1);
    chain.pop();
  }
}

/**
 * What follows a sub-app's mount path: the route's own template when it matches the rest (a route
 * of the sub-app itself), else {@link HIDDEN_MOUNTS} for the sub-app's inner mounts, followed by the
 * longest tail of the rest that the route matches. Null when no tail matches.
 */
function afterSubApp(route: RouteLike, rest: string): Resolved | null {
  if (routePathMatches(route.path, rest || '/')) return { prefix: '', rest };
  for (let i = rest.indexOf('/', 1); i > 0; i = rest.indexOf('/', i + 1)) {
    const tail = rest.slice(i);
    if (routePathMatches(route.path, tail)) return { prefix: HIDDEN_MOUNTS, rest: tail };
  }
  return null;
}

function replayEscape(chain: Chain, path: string, route: RouteLike): Resolved | null {
  let prefix = '';
  let rest = path;
  const last = chain.length - 1;
  for (let i = 0; i < last; i++) {
    const s = step(chain[i] as LayerLike, rest);
    if (!s) return null;
    prefix += s.template;
    rest = s.rest;
  }
  const end = chain[last] as LayerLike;
  if (end.route === route) return routeLayerMatches(end, rest || '/') ? { prefix, rest } : null;
  const s = step(end, rest);
  const after = s && afterSubApp(route, s.rest);
  return after ? { prefix: prefix + s.template + after.prefix, rest: after.rest } : null;
}

/** Strip the mount paths of the sub-applications `app` is mounted under from `path`. */
function underSubApps(app: AppLike, path: string): Resolved | null {
  let prefix = '';
  let rest = path;
  if (!app.parent) return { prefix, rest };
  const mounts: unknown[] = [];
  for (let a: AppLike | undefined = app; a?.parent; a = a.parent) mounts.unshift(a.mountpath);
  for (const mount of mounts) {
    const m = typeof mount === 'string' ? compileTemplate(mount, false).exec(rest) : null;
    if (!m) return null;
    prefix += stripSlash(pathTemplate(mount));
    rest = rest.slice(stripSlash(m[0]).length);
  }
  return { prefix, rest };
}

function join(prefix: string, routeTemplate: string): string {
  if (routeTemplate === '/' || routeTemplate === '') return prefix || '/';
  // A route path without its leading slash (`*path`, `*`) matches below its mount: `/api` + `*path` is `/api/*path`.
  return prefix !== '' && !routeTemplate.startsWith('/') ? `${prefix}/${routeTemplate}` : prefix + routeTemplate;
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
    if (!app || (typeof app !== 'object' && typeof app !== 'function')) {
      return base === '' ? pathTemplate(route.path, arrayRemainder(route.path, req, base)) || '/' : undefined;
    }
    let entry = this.#cache.get(route);
    if (!entry) {
      entry = { chains: [], byBase: new Map(), escapes: [] };
      this.#cache.set(route, entry);
    }
    let prefix = entry.byBase.get(base);
    if (prefix === undefined) prefix = this.#prefix(entry, route, base, app);
    if (prefix !== null) return join(prefix, pathTemplate(route.path, arrayRemainder(route.path, req, base)));
    // The handler failed and the error left the router(s) that matched: resolve over the whole path.
    const escaped = this.#escaped(entry, route, pathOf(req.originalUrl ?? req.url), app);
    return escaped ? join(escaped.prefix, pathTemplate(route.path, escaped.rest || '/')) : undefined;
  }

  #prefix(entry: RouteCache, route: object, base: string, app: AppLike): string | null {
    const sub = underSubApps(app, base);
    let found: string | null = null;
    if (sub) {
      for (const chain of entry.chains) {
        found = replay(chain, sub.rest);
        if (found !== null) break;
      }
      const stack = found === null ? appStack(app) : undefined;
      if (stack) {
        const chains: Chain[] = [];
        findChains(stack, sub.rest, route, [], chains, 0);
        if (chains.length > 0) entry.chains = chains;
        for (const chain of chains) {
          found = replay(chain, sub.rest);
          if (found !== null) break;
        }
      }
    }
    const prefix = found === null || !sub ? null : sub.prefix + found;
    if (entry.byBase.size >= MAX_BASES_PER_ROUTE) entry.byBase.clear();
    entry.byBase.set(base, prefix);
    return prefix;
  }

  #escaped(entry: RouteCache, route: RouteLike, path: string, app: AppLike): Resolved | undefined {
    const sub = underSubApps(app, path);
    if (!sub) return undefined;
    for (const chain of entry.escapes) {
      const r = replayEscape(chain, sub.rest, route);
      if (r) return { prefix: sub.prefix + r.prefix, rest: r.rest };
    }
    const stack = appStack(app);
    if (!stack) return undefined;
    const chains: Chain[] = [];
    findEscapes(stack, sub.rest, route, [], chains, 0);
    if (chains.length > 0) entry.escapes = chains;
    for (const chain of chains) {
      const r = replayEscape(chain, sub.rest, route);
      if (r) return { prefix: sub.prefix + r.prefix, rest: r.rest };
    }
    return undefined;
  }
}

function arrayRemainder(path: unknown, req: RoutableRequest, base: string): string | undefined {
  if (!Array.isArray(path)) return undefined;
  const p = pathOf(req.originalUrl ?? req.url ?? '');
  return p.startsWith(base) ? p.slice(base.length) || '/' : p;
}
