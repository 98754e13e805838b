'use strict';
// createObservability() options for an app running as many instances (pods, VMs, cluster workers).
// Every backend comes from the environment, so one image runs everywhere:
//   OTEL_EXPORTER_OTLP_ENDPOINT  e.g. http://otel-collector:4318 (traces go to <endpoint>/v1/traces)
//   ELASTICSEARCH_URL            e.g. https://es.internal:9200 (or an OpenSearch endpoint)
//   LOKI_URL                     e.g. http://loki:3100
//   ALERTMANAGER_URL             optional: in-process alerts also go straight to Alertmanager
// Usage: const obs = createObservability(require('./observability.config.cjs')(process.env));
const path = require('node:path');

module.exports = function fleetOptions(env) {
  const logging = { stdout: true };
  if (env.ELASTICSEARCH_URL) logging.elasticsearch = { url: env.ELASTICSEARCH_URL, index: 'logs-shop-{yyyy}.{MM}.{dd}' };
  if (env.LOKI_URL) logging.loki = { url: env.LOKI_URL, labels: { app: 'shop', env: env.DEPLOY_ENV || 'prod' } };
  return {
    serviceName: 'shop',
    // Instance identity comes from Prometheus's target labels (job, instance, pod); no per-pod labels here.
    metrics: { defaultLabels: { env: env.DEPLOY_ENV || 'prod' } },
    // Traces: OTLP/HTTP to the collector named by OTEL_EXPORTER_OTLP_ENDPOINT (read by the package).
    tracing: { enabled: true },
    logging,
    alerts: {
      // The same rule file that docs/fleet/alert-rules.yml is exported from.
      file: path.join(__dirname, 'app-alerts.yml'),
      ...(env.ALERTMANAGER_URL ? { notifiers: [{ type: 'alertmanager', url: env.ALERTMANAGER_URL }] } : {}),
    },
    // Under Node's cluster module (one pod, many workers): one /metrics for all workers.
    cluster: { enabled: true, timeoutMs: 2000 },
  };
};
