import type { Counter } from 'prom-client';
import type { CheckOutcome } from '../health/health';

async function total(counter: Counter<string>, reason?: string): Promise<number> {
  const data = await counter.get();
  return data.values.filter((v) => reason === undefined || v.labels.reason === reason).reduce((a, v) => a + v.value, 0);
}

/**
 * The span exporter's health check (`tracing:exporter`), reading the instance's own counters:
 * `warn` when spans were dropped (queue full or export failed) since the previous evaluation, else
 * `pass`. Never `fail`: a collector outage must not take the service out of rotation.
 */
export function spanExporterCheck(exported: Counter<string>, dropped: Counter<string>, endpoint: string): () => Promise<CheckOutcome> {
  let last: { exported: number; dropped: number } | undefined;
  return async () => {
    const now = { exported: await total(exported), dropped: await total(dropped) };
    const prev = last ?? { exported: 0, dropped: 0 };
    last = now;
    const newDrops = now.dropped - prev.dropped;
    const newExports = now.exported - prev.exported;
    return {
      status: newDrops > 0 ? 'warn' : 'pass',
      observedValue: newDrops,
      observedUnit: 'spans dropped',
      componentType: 'component',
      componentId: endpoint,
      output: `${newExports} spans exported and ${newDrops} dropped since the previous check`,
    };
  };
}
