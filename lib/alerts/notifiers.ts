import { backoffDelay, wakeableSleep, type WakeableSleep } from '../util/backoff';
import { HttpPoster } from '../logging/http-post';
import type { ResolvedNotifier } from './options';
import type { AlertNotification } from './types';

/** What one evaluation hands to the notifiers. */
export interface NotifyRound {
  readonly now: number;
  /** Alerts that started firing or resolved at this evaluation. */
  readonly changed: readonly AlertNotification[];
  /** Every firing alert and every alert resolved within the retention (what Alertmanager expects to keep hearing). */
  readonly current: readonly AlertNotification[];
}

/** Log function the log notifier writes through. */
export type AlertLog = (level: 'error' | 'warn' | 'info', message: string, fields: Record<string, unknown>) => void;

/** Settings shared by the notifiers. */
export interface NotifierSettings {
  readonly retries: number;
  readonly resendIntervalMs: number;
  readonly serviceName: string;
  readonly log: AlertLog;
  readonly reportError: (component: string, err: unknown) => void;
}

const REQUEST_TIMEOUT_MS = 5000;
const MAX_QUEUED = 50;
/** The first retry waits this long, each further one twice as long. */
const RETRY_INITIAL_MS = 500;

/**
 * Serial delivery with retries (exponential backoff from 500 ms, unref'd timers):
 * a dead receiver costs one queued batch per round, bounded, never an exception.
 */
class Outbox {
  readonly #queue: Array<() => Promise<void>> = [];
  #running: Promise<void> | undefined;
  #closed = false;
  readonly #sleeping = new Set<WakeableSleep>();

  constructor(
    readonly name: string,
    readonly settings: NotifierSettings,
  ) {}

  send(job: () => Promise<void>): void {
    if (this.#closed) return;
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.shift();
      this.settings.reportError(`alerts:${this.name}`, new Error('delivery queue full; dropped the oldest notification'));
    }
    this.#queue.push(job);
    this.#running ??= this.#pump().finally(() => (this.#running = undefined));
  }

  async #pump(): Promise<void> {
    for (let job = this.#queue.shift(); job && !this.#closed; job = this.#queue.shift()) {
      for (let attempt = 0; ; attempt++) {
        try {
          await job();
          break;
        } catch (err) {
          if (attempt >= this.settings.retries || this.#closed) {
            this.settings.reportError(`alerts:${this.name}`, err);
            break;
          }
          await this.#sleep(backoffDelay(attempt, RETRY_INITIAL_MS));
        }
      }
    }
  }

  async #sleep(ms: number): Promise<void> {
    const sleep = wakeableSleep(ms);
    this.#sleeping.add(sleep);
    await sleep.done;
    this.#sleeping.delete(sleep);
  }

  /** Stop retrying; wait for the delivery in flight (bounded by the request timeout). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    for (const s of this.#sleeping) s.wake();
    await this.#running;
  }
}

/** POST `body` as JSON to the poster's URL itself (`path` `''`) or below it; throws unless the answer is 2xx. */
async function postJson(poster: HttpPoster, url: string, path: string, headers: Readonly<Record<string, string>>, body: unknown): Promise<void> {
  const res = await poster.post(path, JSON.stringify(body), { 'content-type': 'application/json', ...headers }, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
  if (res.status < 200 || res.status > 299) throw new Error(`POST ${url}${path} answered ${res.status}: ${res.body.slice(0, 200)}`);
}

/** Close the outbox (ending the delivery in flight), then the poster's sockets. */
async function closeBoth(box: Outbox, poster: HttpPoster): Promise<void> {
  await box.close();
  poster.close();
}

/** A notification target. */
export interface Notifier {
  notify(round: NotifyRound): void;
  close(): Promise<void>;
}

/** Alertmanager's webhook payload (version 4) for `alerts`. */
export function webhookPayload(alerts: readonly AlertNotification[], receiver: string): Record<string, unknown> {
  const common = (pick: (a: AlertNotification) => Readonly<Record<string, string>>): Record<string, string> => {
    const [first, ...rest] = alerts;
    if (!first) return {};
    return Object.fromEntries(Object.entries(pick(first)).filter(([k, v]) => rest.every((a) => pick(a)[k] === v)));
  };
  const commonLabels = common((a) => a.labels);
  return {
    version: '4',
    groupKey: `{}:{${Object.entries(commonLabels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels: commonLabels.alertname ? { alertname: commonLabels.alertname } : {},
    commonLabels,
    commonAnnotations: common((a) => a.annotations),
    externalURL: '',
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.status === 'resolved' ? a.endsAt : '0001-01-01T00:00:00Z',
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
  };
}

/** Build the notifier for one configuration. */
export function createNotifier(spec: ResolvedNotifier, s: NotifierSettings): Notifier {
  switch (spec.type) {
    case 'log':
      return {
        notify({ changed }) {
          for (const a of changed) {
            const level = a.status === 'resolved' ? 'info' : a.labels.severity === 'critical' ? 'error' : 'warn';
            s.log(level, `alert ${a.status}: ${a.labels.alertname}${a.annotations.summary ? ` — ${a.annotations.summary}` : ''}`, {
              alert: { name: a.labels.alertname, status: a.status, value: a.value, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt },
            });
          }
        },
        close: () => Promise.resolve(),
      };
    case 'function': {
      const box = new Outbox('function', s);
      return {
        notify({ changed }) {
          if (changed.length > 0) box.send(async () => spec.fn(changed));
        },
        close: () => box.close(),
      };
    }
    case 'webhook': {
      const box = new Outbox('webhook', s);
      const poster = new HttpPoster(new URL(spec.url));
      let lastRepeat = 0;
      return {
        notify({ now, changed, current }) {
          const firing = current.filter((a) => a.status === 'firing');
          let batch = changed;
          if (changed.length === 0 && firing.length > 0 && now - lastRepeat >= spec.repeatIntervalMs) batch = firing;
          if (batch.length === 0) return;
          if (changed.some((a) => a.status === 'firing') || batch === firing) lastRepeat = now;
          const body = webhookPayload(batch, s.serviceName);
          box.send(() => postJson(poster, spec.url, '', spec.headers, body));
        },
        close: () => closeBoth(box, poster),
      };
    }
    default: {
      const box = new Outbox('alertmanager', s);
      const poster = new HttpPoster(new URL(spec.url));
      let lastSent = -Infinity;
      return {
        notify({ now, changed, current }) {
          if (current.length === 0 || (changed.length === 0 && now - lastSent < s.resendIntervalMs)) return;
          lastSent = now;
          const body = current.map((a) => ({ labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, endsAt: a.endsAt, generatorURL: a.generatorURL }));
          box.send(() => postJson(poster, spec.url, '/api/v2/alerts', spec.headers, body));
        },
        close: () => closeBoth(box, poster),
      };
    }
  }
}
