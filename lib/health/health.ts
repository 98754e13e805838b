/** Overall or per-check status, after the IETF draft "Health Check Response Format for HTTP APIs". */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** Body of `application/health+json` responses. */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly serviceId?: string;
  readonly version?: string;
  readonly description?: string;
  readonly output?: string;
  /** Per-check entries keyed `component:measurement` (or the name given to `addCheck`). */
  readonly checks?: Readonly<Record<string, readonly CheckEntry[]>>;
}

/** What the router asks of the health subsystem. */
export interface HealthProvider {
  /** Full report (`GET /health`): every check. */
  report(): Promise<HealthReport>;
  /** Liveness (`GET /health/live`): never runs dependency checks. */
  live(): Promise<HealthReport>;
  /** Readiness (`GET /health/ready`): critical checks, and `fail` once shutdown began. */
  ready(): Promise<HealthReport>;
}

/** HTTP status code for a report: 503 for fail, else 200. */
export function httpStatusOf(report: HealthReport): number {
  return report.status === 'fail' ? 503 : 200;
}

/** What a check reports about itself; every field is optional (an empty outcome is a pass). */
export interface CheckOutcome {
  /** Default `pass`. */
  readonly status?: HealthStatus;
  /** The measured value (a number, string, boolean or small object). */
  readonly observedValue?: unknown;
  /** Unit of `observedValue` (`ms`, `ratio`, `bytes`, ...). */
  readonly observedUnit?: string;
  /** Human-readable detail; used for warn/fail explanations. */
  readonly output?: string;
  /** Which component instance this entry is about (e.g. a mountpoint). */
  readonly componentId?: string;
  /** `component`, `datastore`, `system`, ... */
  readonly componentType?: string;
}

/**
 * What a check function may return: nothing or `true` (pass), `false` (fail), a status, one outcome,
 * or several outcomes (one entry each, e.g. one per mount). Throwing fails the check with the message.
 */
export type CheckReturn = void | boolean | HealthStatus | CheckOutcome | readonly CheckOutcome[];

/** A health check; `signal` aborts when the check's deadline passes. */
export type CheckFunction = (signal: AbortSignal) => CheckReturn | Promise<CheckReturn>;

/** Options of one check. */
export interface CheckOptions {
  /** Deadline in ms. Default: `health.timeoutMs`. */
  readonly timeout?: number;
  /** Critical checks run in `/health/ready`, and a critical fail fails `/health`; a non-critical fail only warns. Default `false`. */
  readonly critical?: boolean;
  /** Reuse a result for this many ms (on-demand checks). Default: `health.cacheTtlMs`. */
  readonly ttl?: number;
  /** Run the check in the background every `interval` ms instead of on request; requests read the last result. */
  readonly interval?: number;
  /** Default `componentType` of the check's entries. */
  readonly componentType?: string;
}

/** One entry of a report's `checks` map, as sent. */
export interface CheckEntry extends CheckOutcome {
  readonly status: HealthStatus;
  /** When the check finished (ISO 8601). */
  readonly time: string;
  /** How long the check took, in milliseconds. */
  readonly duration: number;
}

/** Worst of two statuses (fail > warn > pass). */
export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  const rank = { pass: 0, warn: 1, fail: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}
