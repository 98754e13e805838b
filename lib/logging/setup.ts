/** Wires the logging subsystem into one instance: logger, request participant, shippers, shutdown. */
import type TransportStream from 'winston-transport';
import type { InstanceContext } from '../observability';
import { newRequestState } from '../middleware';
import { createLoggingParticipant } from './access-log';
import { ElasticsearchTransport } from './elasticsearch';
import { SharedLogger } from './logger';
import { shipperBacklogCheck } from './health';
import { LokiTransport } from './loki';
import { RequestLogger, requestLogBinder } from './request-log';
import type { ShipperShutdown, ShippingTransport, ShippedEntry } from './shipper';
import type { ShutdownLedger } from '../health/shutdown-report';
import { FanoutTransport } from './fanout';
import { JsonLinesTransport } from './stdout';
import { fileLinesTransport, type FileLinesHooks } from './file';
import { droppedLinesCounter } from './pipeline-metrics';
import { SHUTDOWN_ORDER } from '../instance/order';
import type { Redactor } from '../redaction/redactor';
import type { OtlpLogTransport } from './otlp';
import { instanceResource } from '../otlp/resource';
import { SpoolDirectory } from './spool-dir';
import { PACKAGE_VERSION } from '../version';

/** What the logging subsystem gives the instance. */
export interface LoggingSubsystem {
  /** The instance's logger (winston is loaded when it is first asked for). */
  readonly logger: SharedLogger;
  /** The shipping transports built from the options (Elasticsearch, Loki). */
  readonly shippers: readonly ShippingTransport<ShippedEntry>[];
  /** Add a package-owned transport (the dashboard's ring) behind the logger's fan-out. */
  readonly attach: (transport: TransportStream) => void;
}

/** Build the logging subsystem; call after tracing has joined the request (its participant comes first). */
export function setupLogging(ctx: InstanceContext): LoggingSubsystem {
  const o = ctx.options.logging;
  if (!o.enabled) return disabledLogging(ctx);
  const redactor = ctx.redactor;
  // Opened (and locked) only when a shipper will use it; a second process on the same directory throws here.
  const spool = o.spool && (o.elasticsearch || o.loki) ? new SpoolDirectory(o.spool) : undefined;
  const internals = { metrics: ctx.metrics, reportError: ctx.reportError, redactor, ...(spool ? { spool } : {}) };
  const shippers: ShippingTransport<ShippedEntry>[] = [];
  if (o.elasticsearch) shippers.push(new ElasticsearchTransport(o.elasticsearch, internals) as unknown as ShippingTransport<ShippedEntry>);
  if (o.loki) shippers.push(new LokiTransport(o.loki, internals) as unknown as ShippingTransport<ShippedEntry>);
  const lineTransports: JsonLinesTransport[] = [];
  if (o.stdout) lineTransports.push(new JsonLinesTransport());
  if (o.file) lineTransports.push(fileLinesTransport(o.file, fileLossReporter(ctx)));
  const otlp = o.otlp === undefined ? undefined : otlpTransport(ctx, o.otlp);
  // Backlog checks (non-critical): /health warns while a backend is behind or lines were dropped.
  for (const s of shippers) ctx.addHealthCheck(`log-shipping:${s.transportName}`, shipperBacklogCheck(s, s.maxQueueBytes, 'bytes', o.spool?.maxBytes));
  if (otlp && o.otlp) ctx.addHealthCheck('log-shipping:otlp', shipperBacklogCheck(otlp, o.otlp.maxQueueSize, 'lines'));
  // The package's own transports sit behind one fan-out (one winston pipe per line instead of one
  // per transport); transports from `logging.transports` are the caller's and stay on the logger.
  const fanout = new FanoutTransport([...lineTransports, ...shippers, ...(otlp ? [otlp] : [])]);
  const logger = new SharedLogger({ service: ctx.options.serviceName, level: o.level, redactor, transports: [fanout, ...o.transports] });
  fanout.bind(logger);
  ctx.addParticipant(
    'logging',
    createLoggingParticipant({
      logger,
      service: ctx.options.serviceName,
      redactor,
      enabled: o.accessLog.enabled,
      skipPaths: o.accessLog.skipPaths,
      reportError: ctx.reportError,
      stateOf: (req) => ctx.states.of(req),
      silentLog: lazySilentLog(ctx.options.serviceName, ctx.redactor),
    }),
  );
  const account = (ledger: ShutdownLedger, ends: readonly ShipperShutdown[]): void => {
    for (const e of ends) {
      ledger.lost(e.transport, 'log lines', e.lost);
      if (e.spoolDir !== undefined) ledger.kept(e.transport, 'log lines', e.kept, e.spoolDir);
    }
  };
  ctx.onShutdown({
    name: 'logging',
    order: SHUTDOWN_ORDER.logging,
    run: async (ledger) => {
      for (const t of lineTransports) t.flush();
      try {
        account(ledger, await Promise.all([...shippers.map((s) => s.shutdown(o.shutdownTimeoutMs)), ...(otlp ? [otlp.shutdown(o.shutdownTimeoutMs)] : [])]));
      } finally {
        spool?.release();
      }
      await Promise.all(lineTransports.map((t) => t.drain()));
      for (const t of lineTransports) t.close();
    },
    abandon: (ledger) => {
      for (const t of lineTransports) t.flush();
      account(ledger, [...shippers.map((s) => s.abandon()), ...(otlp ? [otlp.abandon()] : [])]);
      spool?.release();
    },
  });
  return { logger, shippers, attach: (t) => void fanout.add(t) };
}

/** The log file's losses: counted per line, reported once per run of failures. */
function fileLossReporter(ctx: InstanceContext): FileLinesHooks {
  const dropped = droppedLinesCounter(ctx.metrics);
  return {
    lost: (lines, reason) => dropped.inc({ transport: 'file', reason }, lines),
    failed: (err) => ctx.reportError('logging-file', err),
  };
}

/** A logger that writes nowhere (what `logging.enabled: false` uses), and a `req.log` bound to it. */
function silentLogging(service: string, redactor: Redactor): { logger: SharedLogger; log: RequestLogger } {
  const logger = new SharedLogger({ service, level: 'error', redactor, transports: [new JsonLinesTransport({ silent: true })] }, true);
  return { logger, log: new RequestLogger(logger, newRequestState(0, true)) };
}

/** The silent `req.log` of requests that are not logged, built on first use. */
function lazySilentLog(service: string, redactor: Redactor): () => RequestLogger {
  let log: RequestLogger | undefined;
  return () => (log ??= silentLogging(service, redactor).log);
}

/** The OTLP log transport; its module (and the OpenTelemetry logs SDK and exporter) is loaded only now, when logs go over OTLP. */
function otlpTransport(ctx: InstanceContext, options: NonNullable<InstanceContext['options']['logging']['otlp']>): OtlpLogTransport {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy loading (start-up cost)
  const { OtlpLogTransport: Transport } = require('./otlp') as typeof import('./otlp');
  return new Transport({
    options,
    resource: instanceResource(ctx.options.serviceName, ctx.options.serviceVersion),
    scopeVersion: PACKAGE_VERSION,
    metrics: ctx.metrics,
    reportError: ctx.reportError,
  });
}

/** `logging.enabled: false`: a logger that writes nowhere (`req.log` still exists), no access log, no shippers. */
function disabledLogging(ctx: InstanceContext): LoggingSubsystem {
  const { logger, log: shared } = silentLogging(ctx.options.serviceName, ctx.redactor);
  // One shared, silent req.log for every request: nothing to bind when nothing is written.
  const bind = requestLogBinder(
    (req) => (ctx.states.of(req) !== undefined ? shared : undefined),
    () => shared,
    () => shared,
  );
  // Logging is off: no access line, so no finish hook (the middleware then builds no completion record).
  ctx.addParticipant('logging', { start: bind.start, skip: bind.skip });
  return { logger, shippers: [], attach: () => undefined };
}
