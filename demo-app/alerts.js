'use strict';
// The demo's alert rule set and notifiers, from the environment:
//   ALERT_RULES_FILE   YAML/JSON rules file replacing the defaults below
//   ALERT_INTERVAL     evaluation interval (default 15s)
//   ALERTMANAGER_URL   also push alerts to this Alertmanager (POST /api/v2/alerts)
//   ALERT_WEBHOOK_URL  also POST Alertmanager-style webhook payloads here
// Alerts are always logged through obs.logger.

/** Sensible defaults for a small web service. */
const DEFAULT_RULES = [
  {
    name: 'HighErrorRatio',
    kind: 'errorRatio',
    window: '5m',
    threshold: 0.05,
    for: '1m',
    severity: 'critical',
    annotations: {
      summary: 'More than 5% of requests fail ({{ $value | humanizePercentage }})',
      description: 'Send traffic to /error to watch this fire: node demo-app/error-traffic.js',
    },
  },
  {
    name: 'HighLatencyP99',
    kind: 'latency',
    quantile: 0.99,
    window: '5m',
    threshold: 1,
    for: '5m',
    annotations: { summary: 'p99 latency is {{ $value | humanizeDuration }}' },
  },
  {
    name: 'DiskAlmostFull',
    kind: 'gauge',
    metric: 'system_filesystem_utilization_ratio',
    threshold: 0.9,
    for: '10m',
    severity: 'critical',
    annotations: { summary: 'Filesystem {{ $labels.mountpoint }} is {{ $value | humanizePercentage }} full' },
  },
  {
    name: 'MemoryHigh',
    kind: 'gauge',
    metric: 'system_memory_utilization_ratio',
    matchers: { state: 'used' },
    threshold: 0.9,
    for: '10m',
    annotations: { summary: 'Memory is {{ $value | humanizePercentage }} used' },
  },
  {
    name: 'EventLoopDelayHigh',
    kind: 'gauge',
    metric: 'nodejs_eventloop_delay_p99_seconds',
    threshold: 0.2,
    for: '2m',
    annotations: { summary: 'Event-loop delay p99 is {{ $value | humanizeDuration }}' },
  },
];

/** SLO: 99.9% of order lookups succeed over 30 days (fast and slow burn-rate alerts). */
const DEFAULT_SLOS = [{ name: 'OrdersAvailability', objective: 0.999, route: '/api/orders/:orderId' }];

/**
 * The `alerts` option of the demo.
 * @param {NodeJS.ProcessEnv} env
 */
function demoAlerts(env) {
  const notifiers = [{ type: 'log' }];
  if (env.ALERTMANAGER_URL) notifiers.push({ type: 'alertmanager', url: env.ALERTMANAGER_URL });
  if (env.ALERT_WEBHOOK_URL) notifiers.push({ type: 'webhook', url: env.ALERT_WEBHOOK_URL });
  const base = { notifiers, ...(env.ALERT_INTERVAL ? { interval: env.ALERT_INTERVAL } : {}) };
  // A rules file brings its own interval (options would override it); the defaults use 15s.
  if (env.ALERT_RULES_FILE) return { ...base, file: env.ALERT_RULES_FILE };
  return { interval: '15s', ...base, rules: DEFAULT_RULES, slos: DEFAULT_SLOS };
}

module.exports = { demoAlerts, DEFAULT_RULES, DEFAULT_SLOS };
