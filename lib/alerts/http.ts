import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from 'express';
import type { Alerts } from './engine';

/** Helpers the router lends to mounted endpoints. */
export interface MountHelpers {
  readonly mark: (req: never) => void;
  readonly reportError: (component: string, err: unknown) => void;
}

/**
 * Mount `GET /alerts` (every rule's state, value and since-when, JSON) and
 * `GET /alerts/rules` (the Prometheus rule file, YAML) on the observability router.
 * Handlers use only Node's request/response API (Connect-compatible).
 */
export function mountAlerts(router: Router, alerts: Alerts, helpers: MountHelpers): void {
  const mark = helpers.mark as (req: IncomingMessage) => void;
  router.get('/alerts', (req: IncomingMessage, res: ServerResponse) => {
    mark(req);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const rules = alerts.status();
    const body = {
      status: 'success',
      firing: rules.filter((r) => r.state === 'firing').length,
      pending: rules.filter((r) => r.state === 'pending').length,
      rules,
    };
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(body));
  });
  router.get('/alerts/rules', (req: IncomingMessage, res: ServerResponse) => {
    mark(req);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    let text: string;
    try {
      text = alerts.toPrometheusRules();
    } catch (err) {
      helpers.reportError('alerts-export', err);
      res.statusCode = 500;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('# rule export failed\n');
      return;
    }
    res.setHeader('Content-Type', 'application/yaml; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(text);
  });
}
