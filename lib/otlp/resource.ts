import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';

/**
 * The OpenTelemetry resource of an instance, shared by its spans and its OTLP log records: the SDK
 * defaults (`telemetry.sdk.*`), `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME`, then the
 * instance's `service.name` and `service.version` on top.
 */
export function instanceResource(serviceName: string, serviceVersion: string): Resource {
  return defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': serviceName, 'service.version': serviceVersion }));
}
