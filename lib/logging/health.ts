import type { CheckOutcome } from '../health/health';
import type { PipelineSnapshot } from './pipeline-metrics';

/** What the backlog check reads of one shipping transport. */
export interface ShipperLike {
  readonly transportName: string;
  stats(): PipelineSnapshot;
}

/** Share of the queue bound past which the backlog check warns. */
export const BACKLOG_WARN_RATIO = 0.5;

/**
 * A health check of one log shipper's backlog (`log-shipping:<transport>`): `warn` when the queue holds
 * more than half of its bound (`maxQueue`, in `unit`: bytes for the Elasticsearch and Loki queues, lines
 * for the OTLP one), the spool more than half of `spoolMaxBytes` (the spool's share of this
 * transport), or lines were dropped since the previous evaluation, else `pass`. Never `fail`: a log backend
 * outage must not take the service out of rotation.
 */
export function shipperBacklogCheck(shipper: ShipperLike, maxQueue: number, unit: 'bytes' | 'lines' = 'bytes', spoolMaxBytes?: number): () => CheckOutcome {
  let lastDropped = shipper.stats().droppedTotal;
  return () => {
    const st = shipper.stats();
    const dropped = st.droppedTotal - lastDropped;
    lastDropped = st.droppedTotal;
    const queued = unit === 'bytes' ? st.queueBytes : st.queueLines;
    const ratio = maxQueue > 0 ? queued / maxQueue : 0;
    const spoolRatio = st.spool && spoolMaxBytes ? st.spool.bytes / spoolMaxBytes : 0;
    const spoolFull = spoolRatio > BACKLOG_WARN_RATIO;
    const warn = ratio > BACKLOG_WARN_RATIO || spoolFull || dropped > 0;
    const spool = st.spool
      ? `; spool ${st.spool.bytes} bytes in ${st.spool.segments} segments (${(spoolRatio * 100).toFixed(1)}% of logging.spool.maxBytes${spoolFull ? ', over half full' : ''})`
      : '';
    return {
      status: warn ? 'warn' : 'pass',
      observedValue: queued,
      observedUnit: unit,
      componentType: 'component',
      output: `${st.queueLines} lines queued (${(ratio * 100).toFixed(1)}% of the queue bound), ${dropped} dropped since the previous check, ${st.shipped} shipped${spool}`,
    };
  };
}
