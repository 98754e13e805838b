import { IncomingMessage, ServerResponse, type ServerOptions } from 'node:http';
import { typeError } from '../util/validate';

/**
 * Opt-in request and response classes built on an Express app's prototypes, with in-object room for
 * their properties, so Express's per-request re-prototyping is a no-op; why and what it gains on each
 * Node line: docs/performance.md, "Server classes".
 */

/** Names of the never-assigned properties that size the objects (`this.room0 = ...`). */
type Room = { [k: `room${number}`]: undefined };

/** The two class options of `http.createServer` / `https.createServer`. */
export interface ServerClasses {
  /** Class of each request (`req`); its prototype is the Express app's `app.request`. */
  readonly IncomingMessage: typeof IncomingMessage;
  /** Class of each response (`res`); its prototype is the Express app's `app.response`. */
  readonly ServerResponse: typeof ServerResponse;
}

/** Prototype objects of an Express app (4 or 5), or undefined for anything else (Connect, a plain listener). */
function expressPrototypes(app: object): { request: object; response: object } | undefined {
  const { request, response } = app as { request?: unknown; response?: unknown };
  if (typeof request !== 'object' || request === null || typeof response !== 'object' || response === null) return undefined;
  if (!Object.prototype.isPrototypeOf.call(IncomingMessage.prototype, request)) return undefined;
  if (!Object.prototype.isPrototypeOf.call(ServerResponse.prototype, response)) return undefined;
  return { request, response };
}

/** True for an ES `class` (which cannot be called without `new`). */
function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class\b/.test(Function.prototype.toString.call(fn));
}

/** What no caller passes: the condition of the branch that only sizes the objects. */
const NEVER = Symbol('never');

/**
 * A constructor named `name` whose objects have `prototype` and are initialised in place by Node's
 * `init` (so their hidden class starts from this function's own initial map: one for every request
 * of the server), with room for sixty-four more properties (docs/performance.md). V8 counts the
 * assignments per function literal, so both classes share this one.
 */
function roomyConstructor(name: string, init: object, prototype: object): object {
  const ctor = function (this: object & Room, a: unknown, b: unknown): void {
    (init as (this: object, a: unknown, b: unknown) => void).call(this, a, b);
    if (a === NEVER) {
      this.room0 = this.room1 = this.room2 = this.room3 = this.room4 = this.room5 = this.room6 = this.room7 = undefined;
      this.room8 = this.room9 = this.room10 = this.room11 = this.room12 = this.room13 = this.room14 = this.room15 = undefined;
      this.room16 = this.room17 = this.room18 = this.room19 = this.room20 = this.room21 = this.room22 = this.room23 = undefined;
      this.room24 = this.room25 = this.room26 = this.room27 = this.room28 = this.room29 = this.room30 = this.room31 = undefined;
      this.room32 = this.room33 = this.room34 = this.room35 = this.room36 = this.room37 = this.room38 = this.room39 = undefined;
      this.room40 = this.room41 = this.room42 = this.room43 = this.room44 = this.room45 = this.room46 = this.room47 = undefined;
      this.room48 = this.room49 = this.room50 = this.room51 = this.room52 = this.room53 = this.room54 = this.room55 = undefined;
      this.room56 = this.room57 = this.room58 = this.room59 = this.room60 = this.room61 = this.room62 = this.room63 = undefined;
    }
  };
  Object.defineProperty(ctor, 'name', { value: name });
  ctor.prototype = prototype;
  return ctor;
}

/**
 * The request and response classes for `app`, or undefined when `app` is not an Express app, or when
 * Node's own constructors cannot be called on an object made here (were they ever ES classes; Node 20
 * to 26 write them as functions): Reflect.construct would work but gives each object a derived hidden
 * class, slower than Node's own classes, so those are left in place then.
 */
export function serverClasses(app: object): ServerClasses | undefined {
  const protos = expressPrototypes(app);
  if (protos === undefined || isClass(IncomingMessage) || isClass(ServerResponse)) return undefined;
  return {
    IncomingMessage: roomyConstructor('ExpressIncomingMessage', IncomingMessage, protos.request) as typeof IncomingMessage,
    ServerResponse: roomyConstructor('ExpressServerResponse', ServerResponse, protos.response) as typeof ServerResponse,
  };
}

/**
 * Options for `http.createServer(options, listener)` or `https.createServer(...)` that build each
 * request and response directly on the Express app's prototypes, so Express's per-request
 * re-prototyping becomes a no-op and V8 keeps one hidden class for all requests:
 *
 * ```ts
 * const server = http.createServer(serverOptions(app), app);          // or obs.wrap(app)
 * const tls = https.createServer(serverOptions(app, { key, cert }), app);
 * ```
 *
 * `options` are copied and returned with `IncomingMessage` and `ServerResponse` added. For anything
 * that is not an Express app (Connect, a plain listener) they come back unchanged: Node's own classes.
 * Throws a TypeError when `options` already names its own `IncomingMessage` or `ServerResponse`.
 */
export function serverOptions<T extends ServerOptions = ServerOptions>(app: object, options?: T): T {
  if ((typeof app !== 'function' && typeof app !== 'object') || app === null) {
    typeError('serverOptions(app)', 'an Express app or request listener', app);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    typeError('serverOptions(options)', 'an http.createServer options object', options);
  }
  const base = { ...(options ?? {}) } as T;
  const classes = serverClasses(app);
  if (classes === undefined) return base;
  for (const key of ['IncomingMessage', 'ServerResponse'] as const) {
    if (base[key] !== undefined) {
      typeError(`serverOptions(options).${key}`, 'left unset (the Express app supplies it)', base[key]);
    }
  }
  return Object.assign(base, classes);
}
