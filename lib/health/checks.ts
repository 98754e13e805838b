import { performance } from 'node:perf_hooks';
import { checkNumber, MAX_TIMER_MS, rangeError, typeError } from '../util/validate';
import {
  worst,
  type CheckEntry,
  type CheckFunction,
  type CheckOptions,
  type CheckOutcome,
  type CheckReturn,
  type HealthProvider,
  type HealthReport,
  type HealthStatus,
} from './health';
import type { ResolvedHealthOptions } from './options';
import { TIMED_OUT, withDeadline } from '../util/deadline';

interface Check {
  readonly name: string;
  readonly fn: CheckFunction;
  readonly timeout: number;
  readonly critical: boolean;
  readonly ttl: number;
  readonly interval: number | undefined;
  readonly componentType: string | undefined;
  /** Last finished result and when it finished (performance.now()). */
  result: { entries: CheckEntry[]; at: number } | undefined;
  /** The evaluation in progress (shared by concurrent requests). */
  evaluating: Promise<CheckEntry[]> | undefined;
  /** True while the user function itself has not settled (it may outlive its deadline). */
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** What the health registry needs from its instance. */
export interface HealthParts {
  readonly serviceId: string;
  readonly version: string;
  readonly options: ResolvedHealthOptions;
  readonly reportError: (component: string, err: unknown) => void;
  /** The instance's text redaction, applied to every check's `output` (a thrown error's message or stack included). Default: none. */
  readonly redact?: (text: string) => string;
}

const STATUSES: readonly string[] = ['pass', 'warn', 'fail'];

/**
 * The instance's health checks (`obs.health`). Checks run with a deadline, their results are cached
 * for a short TTL (or refreshed in the background), concurrent requests share one evaluation, and a
 * check whose previous call is still hanging is not called again. Subsystems register through
 * `ctx.addHealthCheck()`, applications through `obs.health.addCheck()`.
 */
export class HealthChecks implements HealthProvider {
  readonly #parts: HealthParts;
  readonly #checks = new Map<string, Check>();
  #shuttingDown = false;
  #stopped = false;

  /** Create an empty registry. */
  constructor(parts: HealthParts) {
    this.#parts = parts;
  }

  /** True once {@link HealthChecks.beginShutdown} was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Register a check under `name` (the `checks` key of the report, ideally `component:measurement`).
   * Throws a TypeError/RangeError naming the option when arguments are invalid or the name is taken.
   */
  addCheck(name: string, fn: CheckFunction, options: CheckOptions = {}): void {
    if (typeof name !== 'string' || name.length === 0) typeError('health check name', 'a non-empty string', name);
    if (typeof fn !== 'function') typeError(`health check "${name}"`, 'a function', fn);
    if (this.#checks.has(name)) throw new TypeError(`express-observability: a health check named "${name}" already exists`);
    const where = `health check "${name}"`;
    const o = options as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['timeout', 'critical', 'ttl', 'interval', 'componentType'].includes(k)) typeError(`${where}.${k}`, 'a known check option', k);
    }
    if (o.interval !== undefined && o.ttl !== undefined) rangeError(`${where}.interval`, 'absent when ttl is given (pick one)', o.interval);
    if (o.critical !== undefined && typeof o.critical !== 'boolean') typeError(`${where}.critical`, 'a boolean', o.critical);
    if (o.componentType !== undefined && typeof o.componentType !== 'string') typeError(`${where}.componentType`, 'a string', o.componentType);
    // `timeout` and `interval` arm timers: at most Node's longest one (a longer one fires after 1 ms).
    const num = (k: string, fallback: number | undefined, min: number, max?: number): number | undefined =>
      o[k] === undefined ? fallback : checkNumber(o[k], `${where}.${k}`, { min, integer: true, ...(max === undefined ? {} : { max }) });
    const check: Check = {
      name,
      fn,
      timeout: num('timeout', this.#parts.options.timeoutMs, 1, MAX_TIMER_MS) as number,
      critical: options.critical ?? false,
      ttl: num('ttl', this.#parts.options.cacheTtlMs, 0) as number,
      interval: num('interval', undefined, 10, MAX_TIMER_MS),
      componentType: options.componentType,
      result: undefined,
      evaluating: undefined,
      busy: false,
      timer: undefined,
    };
    this.#checks.set(name, check);
    if (check.interval !== undefined && !this.#stopped) this.#background(check);
  }

  /** Remove a check; returns whether it existed. */
  removeCheck(name: string): boolean {
    const c = this.#checks.get(name);
    if (c?.timer) clearTimeout(c.timer);
    return this.#checks.delete(name);
  }

  /** Names of the registered checks. */
  names(): string[] {
    return [...this.#checks.keys()];
  }

  /** Readiness fails from now on (called the moment shutdown begins). */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Stop background checks (part of `obs.shutdown()`). */
  stop(): void {
    this.#stopped = true;
    for (const c of this.#checks.values()) if (c.timer) clearTimeout(c.timer);
  }

  /** Full report (`GET /health`): every check; a critical fail fails, a non-critical fail warns. */
  async report(): Promise<HealthReport> {
    const r = await this.#evaluate([...this.#checks.values()]);
    if (this.#shuttingDown) return { ...r, status: 'fail', output: 'shutting down' };
    return r;
  }

  /** Liveness (`GET /health/live`): the process answers; never runs a check. */
  async live(): Promise<HealthReport> {
    const entry: CheckEntry = {
      status: 'pass',
      componentType: 'system',
      observedValue: Math.round(process.uptime() * 1000) / 1000,
      observedUnit: 's',
      time: new Date().toISOString(),
      duration: 0,
    };
    return { status: 'pass', ...this.#base(), checks: { uptime: [entry] } };
  }

  /** Readiness (`GET /health/ready`): critical checks only, and fail as soon as shutdown began. */
  async ready(): Promise<HealthReport> {
    if (this.#shuttingDown) return { status: 'fail', ...this.#base(), output: 'shutting down' };
    const r = await this.#evaluate([...this.#checks.values()].filter((c) => c.critical));
    return this.#shuttingDown ? { ...r, status: 'fail', output: 'shutting down' } : r;
  }

  #base(): { serviceId: string; version: string } {
    return { serviceId: this.#parts.serviceId, version: this.#parts.version };
  }

  async #evaluate(checks: Check[]): Promise<HealthReport> {
    const results = await Promise.all(checks.map((c) => this.#resultOf(c)));
    let status: HealthStatus = 'pass';
    const out: Record<string, CheckEntry[]> = {};
    const failing: string[] = [];
    checks.forEach((c, i) => {
      const entries = results[i] as CheckEntry[];
      out[c.name] = entries;
      for (const e of entries) {
        if (e.status === 'fail') failing.push(c.name);
        status = worst(status, e.status === 'fail' && !c.critical ? 'warn' : e.status);
      }
    });
    const output = failing.length > 0 ? `failing: ${[...new Set(failing)].join(', ')}` : undefined;
    return { status, ...this.#base(), ...(output ? { output } : {}), checks: out };
  }

  /** The cached result if fresh, the evaluation in flight, else a new evaluation. */
  #resultOf(c: Check): Promise<CheckEntry[]> {
    if (c.evaluating) return c.evaluating;
    const fresh = c.result && (c.interval !== undefined || performance.now() - c.result.at < c.ttl);
    if (fresh && c.result) return Promise.resolve(c.result.entries);
    return this.#run(c);
  }

  #run(c: Check): Promise<CheckEntry[]> {
    const run = this.#call(c).then((entries) => {
      c.result = { entries, at: performance.now() };
      c.evaluating = undefined;
      return entries;
    });
    c.evaluating = run;
    return run;
  }

  async #call(c: Check): Promise<CheckEntry[]> {
    const t0 = performance.now();
    const finish = (outcomes: readonly CheckOutcome[]): CheckEntry[] => {
      const time = new Date().toISOString();
      const duration = Math.round((performance.now() - t0) * 1000) / 1000;
      const redact = this.#parts.redact;
      return outcomes.map((o) => ({
        ...(c.componentType !== undefined ? { componentType: c.componentType } : {}),
        ...o,
        ...(redact && typeof o.output === 'string' ? { output: redact(o.output) } : {}),
        status: o.status ?? 'pass',
        time,
        duration,
      }));
    };
    if (c.busy) return finish([{ status: 'fail', output: `timed out after ${c.timeout} ms (previous call still running)` }]);
    const ac = new AbortController();
    c.busy = true;
    const call = Promise.resolve()
      .then(() => c.fn(ac.signal))
      .finally(() => {
        c.busy = false;
      });
    try {
      const v = await withDeadline(call, c.timeout);
      if (v === TIMED_OUT) {
        ac.abort(new Error(`timed out after ${c.timeout} ms`));
        call.catch((err: unknown) => this.#parts.reportError(`health-check:${c.name}`, err));
        return finish([{ status: 'fail', output: `timed out after ${c.timeout} ms` }]);
      }
      return finish(normalise(v));
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const output = this.#parts.options.errorStacks && e.stack ? e.stack : e.message;
      return finish([{ status: 'fail', output }]);
    }
  }

  #background(c: Check): void {
    const tick = (): void => {
      c.timer = undefined;
      this.#run(c).then(
        () => {
          if (this.#stopped || this.#checks.get(c.name) !== c) return;
          c.timer = setTimeout(tick, c.interval);
          c.timer.unref();
        },
        (err: unknown) => this.#parts.reportError(`health-check:${c.name}`, err),
      );
    };
    tick();
  }
}

/** Turn whatever a check returned into outcomes; an unusable value fails the check. */
function normalise(v: CheckReturn): readonly CheckOutcome[] {
  if (v === undefined || v === true) return [{ status: 'pass' }];
  if (v === false) return [{ status: 'fail' }];
  if (typeof v === 'string') return STATUSES.includes(v) ? [{ status: v }] : [{ status: 'fail', output: `check returned unknown status ${JSON.stringify(v)}` }];
  const list: readonly CheckOutcome[] = Array.isArray(v) ? v : [v as CheckOutcome];
  if (list.length === 0) return [{ status: 'pass' }];
  return list.map((o) => {
    if (o === null || typeof o !== 'object') return { status: 'fail', output: 'check returned a non-object entry' };
    if (o.status !== undefined && !STATUSES.includes(o.status)) return { ...o, status: 'fail', output: `check returned unknown status ${JSON.stringify(o.status)}` };
    return serialisable(o);
  });
}

/** `o` when it serialises to JSON (the report is JSON); else a failed outcome saying why (a BigInt, a cycle, a throwing `toJSON`). */
function serialisable(o: CheckOutcome): CheckOutcome {
  try {
    JSON.stringify(o);
    return o;
  } catch (err) {
    return { status: 'fail', output: `check returned a value that is not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}
