import { context, defaultTextMapGetter, SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { normalizeMethod } from '../metrics/http-metrics';
import type { CompletedRequest, ObservedRequest, RequestParticipant, RequestState } from '../middleware';
import { pathOf } from '../middleware';
import type { Redactor } from '../redaction/redactor';
import { clientAddress } from '../util/request-facts';
import { contextWithSpan, releaseSpan, REQUEST_ROOT_CONTEXT } from './context';
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

/** {@link parseHost} with a one-entry memo: almost every request of a server carries the same Host. */
function hostMemo(): (host: string | undefined) => ReturnType<typeof parseHost> {
  let lastHost: string | undefined;
  let last = parseHost(undefined);
  return (host) => {
    if (host !== lastHost) {
      last = parseHost(host);
      lastHost = host;
    }
    return last;
  };
}

function schemeOf(req: ObservedRequest, headers: ObservedRequest['headers'], socket: ObservedRequest['socket'] | null): string {
  // Express's req.protocol only differs from the socket's when X-Forwarded-Proto is present (and trusted).
  const p = headers['x-forwarded-proto'] === undefined ? undefined : (req as ExpressExtras).protocol;
  if (p === 'http' || p === 'https') return p;
  return (socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http';
}

/** Attributes known when the request starts (stable HTTP semantic conventions, optionally the older names). */
function startAttributes(
  req: ObservedRequest,
  state: RequestState,
  method: string,
  legacy: boolean,
  hostOf: (host: string | undefined) => ReturnType<typeof parseHost>,
  headers: ObservedRequest['headers'],
): Attributes {
  // Each property of req is read once: under Express every read of one misses V8's caches (see RequestStates).
  const url = req.originalUrl ?? req.url ?? '/';
  const socket = req.socket as ObservedRequest['socket'] | null;
  const scheme = schemeOf(req, headers, socket);
  const host = hostOf(headers.host);
  const attrs: Attributes = {
    'http.request.method': method,
    'url.path': pathOf(url),
    'url.scheme': scheme,
    'server.address': host.address ?? socket?.localAddress,
    'server.port': host.port ?? (host.address === undefined ? socket?.localPort : scheme === 'https' ? 443 : 80),
    'network.protocol.version': req.httpVersion,
  };
  attrs['client.address'] = clientAddress(req, state, headers);
  if (method === '_OTHER') attrs['http.request.method_original'] = req.method;
  const q = url.indexOf('?');
  if (q !== -1) attrs['url.query'] = url.slice(q + 1);
  const ua = headers['user-agent'];
  if (ua !== undefined) attrs['user_agent.original'] = ua;
  if (legacy) {
    attrs['http.method'] = req.method;
    attrs['http.scheme'] = scheme;
    attrs['http.url'] = `${scheme}://${headers.host ?? `${String(attrs['server.address'])}:${String(attrs['server.port'])}`}${url}`;
  }
  return attrs;
}

/**
 * `METHOD /route/template` span names, one string per method and template (at most 1,024 per method
 * kept), so that spans waiting for export share their name instead of holding one each.
 */
function spanNames(): (method: string, template: string) => string {
  const byMethod = new Map<string, Map<string, string>>();
  return (method, template) => {
    let names = byMethod.get(method);
    if (names === undefined) {
      names = new Map();
      byMethod.set(method, names);
    }
    let name = names.get(template);
    if (name === undefined) {
      name = `${method} ${template}`;
      if (names.size < 1024) names.set(template, name);
    }
    return name;
  };
}

/**
 * The request participant that wraps each request in a SERVER span: continues an incoming
 * `traceparent`/`tracestate`, runs the rest of the chain inside the span's context, and at
 * completion names the span `METHOD /route/template`, sets the response attributes and status
 * (ERROR on 5xx and on an error recorded by `errorHandler`), then ends it. Span data is redacted
 * by the instance's span processor; `atSource` is given instead when spans go to an
 * application-owned provider (no processor of ours runs there).
 */
export function createTracingParticipant(tracing: TracingSystem, legacyAttributes: boolean, incomingBaggage: boolean, atSource?: Redactor): RequestParticipant {
  const { tracer } = tracing;
  // Without `tracing.incomingBaggage`, requests are read with trace context only: a client's `baggage` never enters the context.
  const propagator = incomingBaggage ? tracing.propagator : new W3CTraceContextPropagator();
  const hostOf = hostMemo();
  const nameOf = spanNames();
  // The headers the propagator reads; a request carrying none of them starts a new trace (no extract needed).
  const fields = propagator.fields().map((f) => f.toLowerCase());
  const carriesContext = (headers: ObservedRequest['headers']): boolean => {
    for (const f of fields) if (headers[f] !== undefined) return true;
    return false;
  };
  return {
    start(req: ObservedRequest, _res, state: RequestState): void {
      const headers = req.headers;
      const parent = carriesContext(headers) ? propagator.extract(REQUEST_ROOT_CONTEXT, headers, defaultTextMapGetter) : REQUEST_ROOT_CONTEXT;
      const method = normalizeMethod(req.method);
      const attributes = startAttributes(req, state, method, legacyAttributes, hostOf, headers);
      if (atSource) atSource.attributesInPlace(attributes);
      const span = tracer.startSpan(method === '_OTHER' ? 'HTTP' : method, { kind: SpanKind.SERVER, attributes }, parent);
      const sc = span.spanContext();
      // Unsampled too: the request's log lines (its access line among them) carry its ids, flags 0.
      state.traceId = sc.traceId;
      state.spanId = sc.spanId;
      state.sampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
      const slot: SpanSlot = { span, context: contextWithSpan(parent, span) };
      state.span = slot;
    },

    run<A, B>(state: RequestState, fn: (a: A, b: B) => void, a: A, b: B): void {
      const slot = state.span as SpanSlot | undefined;
      if (slot === undefined) fn(a, b);
      else context.with(slot.context, fn, undefined, a, b);
    },

    // The router answered the request itself: end its span without exporting or keeping it.
    served(state: RequestState): void {
      const slot = state.span as SpanSlot | undefined;
      if (slot === undefined) return;
      state.span = undefined;
      tracing.discard(slot.span);
      releaseSpan(slot.context);
    },

    finish(done: CompletedRequest): void {
      const slot = done.state.span as SpanSlot | undefined;
      if (slot === undefined) return;
      // The state lives as long as the request object, which the application may keep: the ended
      // span must not live on with it (spec/request-retention.spec.ts).
      done.state.span = undefined;
      const { span } = slot;
      const base = done.method === '_OTHER' ? 'HTTP' : done.method;
      if (done.routeTemplate !== undefined) {
        span.updateName(nameOf(base, done.routeTemplate));
        span.setAttribute('http.route', done.routeTemplate);
      }
      const sent = done.headersSent;
      if (sent) {
        span.setAttribute('http.response.status_code', done.statusCode);
        if (legacyAttributes) span.setAttribute('http.status_code', done.statusCode);
      }
      if (done.aborted) span.addEvent('http.request.aborted');
      if (done.state.error !== undefined) {
        recordError(span, done.state.error, atSource);
      } else if (sent && done.statusCode >= 500) {
        span.setAttribute('error.type', String(done.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end(done.end);
      // Timers and sockets created during the request keep its context: from now on it holds the span's ids, not the span.
      releaseSpan(slot.context);
    },
  };
}
