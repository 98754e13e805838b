/**
 * The OpenTelemetry globals an instance registers, and their release at shutdown. Tracing needs a global
 * context manager (the API's `context.with` runs through it); the instances of the package in a process
 * share the one the first of them registered, and the last to shut down unregisters it — only while it
 * is still the registered one. A context manager the application registered first is used and never
 * touched. With `tracing.registerGlobal`, the instance's provider and propagator are released the same
 * way when the global provider is still that instance's.
 */
import {
  context,
  createContextKey,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  trace,
  type ContextManager,
  type TextMapPropagator,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/** The context manager the package registered and how many live instances use it. */
interface SharedManager {
  readonly manager: AsyncLocalStorageContextManager;
  users: number;
}

// On globalThis (not module state) so the package's CommonJS and ESM builds, loaded side by side, share it.
const SHARED = Symbol.for('express-observability.context-manager');
type Holder = { [SHARED]?: SharedManager };

const PROBE = ROOT_CONTEXT.setValue(createContextKey('express-observability.probe'), true);

/** True when `manager` is the global context manager (it is the one `context.with` enters). */
function isGlobal(manager: ContextManager): boolean {
  return context.with(PROBE, () => manager.active() === PROBE);
}

/**
 * Make sure a global context manager is registered: the package's shared one (registered now if there
 * is none) or the application's. Returns the release to call at shutdown (a no-op when the manager is
 * the application's); releasing twice counts once.
 */
export function acquireContextManager(): () => void {
  const holder = globalThis as Holder;
  let shared = holder[SHARED];
  if (shared === undefined || !isGlobal(shared.manager)) {
    const manager = new AsyncLocalStorageContextManager();
    manager.enable();
    if (!context.setGlobalContextManager(manager)) {
      // An application (or another OpenTelemetry setup) owns the global context manager: use theirs.
      manager.disable();
      return () => undefined;
    }
    shared = { manager, users: 0 };
    holder[SHARED] = shared;
  }
  const mine = shared;
  mine.users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--mine.users > 0) return;
    if (holder[SHARED] === mine) delete holder[SHARED];
    if (isGlobal(mine.manager)) context.disable();
    else mine.manager.disable();
  };
}

/**
 * Register `provider` and `propagator` as the OpenTelemetry globals (`tracing.registerGlobal`). Returns the
 * release to call at shutdown: it unregisters both while the global provider is still `provider`.
 */
export function registerGlobalProvider(provider: TracerProvider, propagator: TextMapPropagator): () => void {
  const registered = trace.setGlobalTracerProvider(provider);
  const propagatorRegistered = propagation.setGlobalPropagator(propagator);
  return () => {
    const global = trace.getTracerProvider();
    if (!registered || !(global instanceof ProxyTracerProvider) || global.getDelegate() !== provider) return;
    trace.disable();
    if (propagatorRegistered) propagation.disable();
  };
}
