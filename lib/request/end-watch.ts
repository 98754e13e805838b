import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { ServerResponse as NodeServerResponse, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { ObservedRequest, RequestState, RequestStates } from './state';

/** Called exactly once per watched request, when its response finished or its connection closed. */
export type OnRequestEnd = (req: ObservedRequest, res: ServerResponse, state: RequestState, aborted: boolean) => void;

/** A request watched through the finish channel, listed under its connection until it ends. */
interface InFlight {
  readonly req: ObservedRequest;
  readonly res: ServerResponse;
  readonly state: RequestState;
}

/** Node's HTTP server publishes every finished response here (`{ request, response, socket, server }`). */
const FINISH_CHANNEL = 'http.server.response.finish';

const addListener = EventEmitter.prototype.on;

/** An event listener that hands its `this` (the emitter) to `fn`. */
function asListener<T>(fn: (emitter: T) => void): (this: T) => void {
  return function listener(this: T): void {
    fn(this);
  };
}

/**
 * Detects the end of each request without adding anything to the response (docs/performance.md,
 * "Why the request path looks the way it does"). Requests served by Node's HTTP server: the diagnostics channel
 * `http.server.response.finish` (one subscription per instance) for finished responses, and one
 * 'close' listener per connection for the requests a closing connection aborts. Anything else
 * (a response that is not Node's, mocks): one shared 'close' listener on the response.
 *
 * The channel moves `off` → `on` (first request) → `closing` (shutdown began, requests in flight)
 * → `closed`; once closing, new requests fall back to the response listener.
 */
export class RequestEndWatch {
  #channel: 'off' | 'on' | 'closing' | 'closed' = 'off';
  #tracked = 0;
  readonly #bySocket = new WeakMap<object, InFlight[]>();
  readonly #states: RequestStates;
  readonly #onEnd: OnRequestEnd;
  /** Listener on each watched connection (Node calls it with the socket as `this`). */
  readonly #onSocketClose: (this: object) => void;
  /** Listener on responses that are not watched through the channel (Node calls it with the response as `this`). */
  readonly #onClose: (this: ServerResponse) => void;

  /** Report each watched request's end to `onEnd`; `states` holds each request's state. */
  constructor(states: RequestStates, onEnd: OnRequestEnd) {
    this.#states = states;
    this.#onEnd = onEnd;
    // Shared listeners, not closures per request.
    this.#onSocketClose = asListener<object>((socket) => this.#socketClosed(socket));
    this.#onClose = asListener<ServerResponse>((res) => this.#responseClosed(res));
  }

  /** Watch `req` until it ends. */
  watch(req: ObservedRequest, res: ServerResponse, state: RequestState): void {
    const socket = req.socket as unknown;
    const channel = this.#channel;
    if ((channel === 'on' || channel === 'off') && socket instanceof Socket && res instanceof NodeServerResponse) {
      if (channel === 'off') {
        subscribe(FINISH_CHANNEL, this.#onFinish);
        this.#channel = 'on';
      }
      let list = this.#bySocket.get(socket);
      if (list === undefined) {
        list = [];
        this.#bySocket.set(socket, list);
        addListener.call(socket, 'close', this.#onSocketClose);
      }
      list.push({ req, res, state });
      this.#tracked++;
      return;
    }
    // on(), not once(): once() allocates a wrapper per request; #onClose ignores repeats via state.done.
    addListener.call(res, 'close', this.#onClose);
  }

  /** Stop watching new requests through the channel; the subscription ends once the requests it watches ended. */
  close(): void {
    if (this.#channel === 'on') {
      this.#channel = 'closing';
      if (this.#tracked === 0) this.#stop();
    } else if (this.#channel === 'off') {
      this.#channel = 'closed';
    }
  }

  #end(req: ObservedRequest, res: ServerResponse, state: RequestState, aborted: boolean): void {
    state.done = true;
    this.#onEnd(req, res, state, aborted);
  }

  #untrack(socket: object | undefined, state: RequestState): void {
    this.#tracked--;
    const list = socket === undefined ? undefined : this.#bySocket.get(socket);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        if ((list[i] as InFlight).state === state) {
          list.splice(i, 1);
          break;
        }
      }
    }
    if (this.#tracked === 0 && this.#channel === 'closing') this.#stop();
  }

  #stop(): void {
    unsubscribe(FINISH_CHANNEL, this.#onFinish);
    this.#channel = 'closed';
  }

  readonly #onFinish = (message: unknown): void => {
    const m = message as { request?: ObservedRequest; response?: ServerResponse; socket?: object };
    const req = m.request;
    if (req === undefined || m.response === undefined) return;
    const state = this.#states.of(req);
    if (state === undefined || state.done) return;
    this.#untrack(m.socket, state);
    this.#end(req, m.response, state, false);
  };

  #socketClosed(socket: object): void {
    const list = this.#bySocket.get(socket);
    if (list === undefined) return;
    this.#bySocket.delete(socket);
    for (const f of list.splice(0)) {
      if (f.state.done) continue;
      this.#untrack(undefined, f.state);
      this.#end(f.req, f.res, f.state, !f.res.writableFinished);
    }
  }

  // Node emits 'close' on every ServerResponse, right after 'finish' for completed responses and alone for aborted ones.
  #responseClosed(res: ServerResponse): void {
    const req = (res as ServerResponse & { req?: ObservedRequest }).req;
    if (req === undefined) return;
    const state = this.#states.of(req);
    if (state === undefined || state.done) return;
    this.#end(req, res, state, !res.writableFinished);
  }
}
