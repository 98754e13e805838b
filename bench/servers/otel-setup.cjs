'use strict';
// The official OpenTelemetry auto-instrumentation (http + express), batch processor, OTLP/HTTP
// exporter to the orchestrator's discarding receiver. Must be required before express.
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const exporter = new OTLPTraceExporter({ url: `${process.env.OTLP_URL || 'http://127.0.0.1:4318'}/v1/traces` });
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench' }),
  spanProcessors: [new BatchSpanProcessor(exporter)],
});
provider.register();
registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
});

module.exports = { stopTracing: () => provider.shutdown() };
