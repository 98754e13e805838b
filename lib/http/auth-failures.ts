/**
 * Failed authentication at the observability router: every refusal is counted by reason in
 * `observability_auth_failures_total`, and logged at `warn`, at most one line per
 * `auth.failureLogIntervalMs` (the line says how many failures went unlogged since the previous one).
 */
import type { IncomingMessage } from 'node:http';
import type { MetricsCollector } from '../metrics/collector';
import { pathOf } from '../util/request-facts';

/** Why a request to a protected router path was refused (the `reason` label). */
export type AuthFailureReason = 'ip_not_allowed' | 'missing_credentials' | 'invalid_credentials' | 'authorize_denied' | 'authorize_error';

/** Every {@link AuthFailureReason}, in the order the guard checks them. */
export const AUTH_FAILURE_REASONS: readonly AuthFailureReason[] = Object.freeze([
  'ip_not_allowed',
  'missing_credentials',
  'invalid_credentials',
  'authorize_denied',
  'authorize_error',
]);

/** Writes a warn line (the instance's logger). */
export type WarnFn = (message: string, fields: Record<string, unknown>) => void;

/** Records failed authentication: the counter, and rate-limited warn lines. */
export type AuthFailureRecorder = (reason: AuthFailureReason, req: IncomingMessage) => void;

/** Build the recorder of one instance; `intervalMs` is the least time between two log lines. */
export function authFailureRecorder(metrics: MetricsCollector, warn: WarnFn, intervalMs: number, now: () => number = Date.now): AuthFailureRecorder {
  const counter = metrics.counter(
    'observability_auth_failures_total',
    'Requests to protected observability endpoints refused by the auth option, by reason.',
    ['reason'],
  );
  for (const reason of AUTH_FAILURE_REASONS) counter.inc({ reason }, 0);
  let lastLine = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (reason, req) => {
    counter.inc({ reason });
    const t = now();
    if (t - lastLine < intervalMs) {
      unlogged++;
      return;
    }
    lastLine = t;
    const ip = (req as IncomingMessage & { ip?: unknown }).ip;
    warn('observability router: authentication failed', {
      reason,
      method: req.method,
      path: pathOf((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url),
      client_address: typeof ip === 'string' ? ip : req.socket?.remoteAddress,
      unlogged_failures: unlogged,
    });
    unlogged = 0;
  };
}
