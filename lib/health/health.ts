/** Overall or per-check status, after the IETF draft "Health Check Response Format for HTTP APIs". */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** Body of `application/health+json` responses. */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly serviceId?: string;
  readonly version?: string;
  readonly description?: string;
  readonly output?: string;
  readonly checks?: Readonly<Record<string, readonly Readonly<Record<string, unknown>>[]>>;
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

/** Minimal provider: passes while the process runs, readiness fails once shutdown began. */
export class BasicHealth implements HealthProvider {
  #shuttingDown = false;
  readonly #base: { serviceId: string; version: string };

  /** Describe the service in every report. */
  constructor(serviceId: string, version: string) {
    this.#base = { serviceId, version };
  }

  /** Flip readiness to fail (called when shutdown begins). */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Full report. */
  async report(): Promise<HealthReport> {
    return this.#shuttingDown ? { status: 'fail', ...this.#base, output: 'shutting down' } : { status: 'pass', ...this.#base };
  }

  /** Liveness. */
  async live(): Promise<HealthReport> {
    return { status: 'pass', ...this.#base };
  }

  /** Readiness. */
  async ready(): Promise<HealthReport> {
    return this.report();
  }
}
