import type { RegistryContentType } from 'prom-client';
import { Registry } from './prom-client';

/** A prom-client registry of either exposition format. */
export type AnyRegistry = Registry<RegistryContentType>;

/** A new private registry in OpenMetrics mode (needed for exemplars); text is negotiated per scrape. */
export function createRegistry(): AnyRegistry {
  // prom-client's constructor takes the content type at runtime but its typings declare no parameter.
  const Ctor = Registry as unknown as new (contentType: RegistryContentType) => AnyRegistry;
  return new Ctor(Registry.OPENMETRICS_CONTENT_TYPE);
}

/** True when the registry writes OpenMetrics by default. */
export function isOpenMetrics(registry: AnyRegistry): boolean {
  return registry.contentType === Registry.OPENMETRICS_CONTENT_TYPE;
}
