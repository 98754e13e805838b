import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { normalizeMethod } from '../metrics/http-metrics';
import type { CompletedRequest, ObservedRequest, RequestParticipant, RequestState } from '../middleware';
import { pathOf } from '../middleware';
import { redactQuery, redactUrl } from '../util/redact';
import { clientAddress } from '../util/request-facts';
import { recordError, type TracingSystem } from './tracer';

/** What the SERVER-span participant keeps per request. */
interface SpanSlot {
  readonly span: Span;
  readonly context: Context;
}

/** Express adds these to the request; Connect does not. */
interface ExpressExtras {
  readonly protocol?: unknown;
}

/** Host and port of a `Host` header (`example.com:8080`, `[::1]:3000`); undefined parts when absent or malformed. */
export function parseHost(host: string | undefined): { address: string | undefined; port: number | undefined } {
  if (!host) return { address: undefined, port: undefined };
  let address = host;
  let portText: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1) return { address: undefined, port: undefined };
    address = host.slice(1, end);
    if (host[end + 1] === ':') portText = host.slice(end + 2);
  } else {
    const i = host.lastIndexOf(':');
    if (i !== -1) {
      address = host.slice(0, i);
      portText = host.slice(i + 1);
    }
  }
  const port = portText !== undefined && /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
  return { address: address || undefined, port: port !== undefined && port <= 65535 ? port : undefined };
}

function schemeOf(req: ObservedRequest): string {
  const p = (req as ExpressExtras).protocol;
  if (p === 'http' || p === 'https') return p;
  return (req.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http';
}

/** Attributes known when the request starts (stable HTTP semantic conventions, optionally the older names). */
function startAttributes(req: ObservedRequest, state: RequestState, method: string, legacy: boolean): Attributes {
  const url = req.originalUrl ?? req.url ?? '/';
  const scheme = schemeOf(req);
  const host = parseHost(req.headers.host);
  const attrs: Attributes = {
    'http.request.method': method,
    'url.path': pathOf(url),
    'url.scheme': scheme,
    'server.address': host.address ?? req.socket?.localAddress,
    'server.port': host.port ?? (host.address === undefined ? req.socket?.localPort : scheme === 'https' ? 443 : 80),
    'network.protocol.version': req.httpVersion,
  };
  attrs['client.address'] = clientAddress(req, state);
  if (method === '_OTHER') attrs['http.request.method_original'] = req.method;
  const q = url.indexOf('?');
  if (q !== -1) attrs['url.query'] = redactQuery(url.slice(q + 1));
  const ua = req.headers['user-agent'];
  if (ua !== undefined) attrs['user_agent.original'] = ua;
  if (legacy) {
    attrs['http.method'] = req.method;
    attrs['http.scheme'] = scheme;
    attrs['http.url'] = `${scheme}://${req.headers.host ?? `${String(attrs['server.address'])}:${String(attrs['server.port'])}`}${redactUrl(url)}`;
  }
  return attrs;
}

/**
 * The request participant that wraps each request in a SERVER span: continues an incoming
 * `traceparent`/`tracestate`, runs the rest of the chain inside the span's context, and at
 * completion names the span `METHOD /route/template`, sets the response attributes and status
 * (ERROR on 5xx and on an error recorded by `errorHandler`), then ends it.
 */
export function createTracingParticipant(tracing: TracingSystem, legacyAttributes: boolean): RequestParticipant {
  const slotKey = Symbol('express-observability.tracing.span');
  const { tracer, propagator } = tracing;
  return {
    start(req: ObservedRequest, _res, state: RequestState): void {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const method = normalizeMethod(req.method);
      const span = tracer.startSpan(
        method === '_OTHER' ? 'HTTP' : method,
        { kind: SpanKind.SERVER, attributes: startAttributes(req, state, method, legacyAttributes) },
        parent,
      );
      const sc = span.spanContext();
      if ((sc.traceFlags & TraceFlags.SAMPLED) !== 0) {
        state.traceId = sc.traceId;
        state.spanId = sc.spanId;
      }
      const slot: SpanSlot = { span, context: trace.setSpan(parent, span) };
      state.slots.set(slotKey, slot);
    },

    run(state: RequestState, next: () => void): void {
      const slot = state.slots.get(slotKey) as SpanSlot | undefined;
      if (slot === undefined) next();
      else context.with(slot.context, next);
    },

    finish(done: CompletedRequest): void {
      const slot = done.state.slots.get(slotKey) as SpanSlot | undefined;
      if (slot === undefined) return;
      const { span } = slot;
      const base = done.method === '_OTHER' ? 'HTTP' : done.method;
      if (done.routeTemplate !== undefined) {
        span.updateName(`${base} ${done.routeTemplate}`);
        span.setAttribute('http.route', done.routeTemplate);
      }
      const sent = done.res.headersSent;
      if (sent) {
        span.setAttribute('http.response.status_code', done.statusCode);
        if (legacyAttributes) span.setAttribute('http.status_code', done.statusCode);
      }
      if (done.aborted) span.addEvent('http.request.aborted');
      if (done.state.error !== undefined) {
        recordError(span, done.state.error);
      } else if (sent && done.statusCode >= 500) {
        span.setAttribute('error.type', String(done.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}
