/**
 * Public types of the alert rule set: what users write in `alerts` options or a
 * rules file, and what `obs.alerts` reports back. Internal shapes live next to
 * the code that uses them.
 */

/** Comparison of a rule's value against its threshold. */
export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** Fields every alerting rule has. */
export interface RuleBase {
  /** Alert name (`alertname` label): letters, digits and `_`, not starting with a digit. */
  readonly name: string;
  /** How long the condition must hold before the alert fires (Prometheus duration). Default `0s`. */
  readonly for?: string;
  /** How long the alert keeps firing after the condition cleared (damps flapping). Default `0s`. */
  readonly keepFiringFor?: string;
  /** `severity` label. Default `warning`. */
  readonly severity?: string;
  /** Extra labels of the alert. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Annotations (`summary`, `description`, ...). Templates: `{{ $value }}`, `{{ $labels.name }}`,
   * `{{ $value | humanize }}`, `{{ $value | humanizePercentage }}`, `{{ $value | humanizeDuration }}`,
   * `{{ printf "%.2f" $value }}` — rendered identically in-process and by Prometheus.
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** 5xx / all requests of one route (or of every route) over a window. */
export interface ErrorRatioRuleSpec extends RuleBase {
  readonly kind: 'errorRatio';
  /** Route template (`/users/:id`); omitted: all routes. Adds a `route` label to the alert. */
  readonly route?: string;
  /** Window. Default `5m`. */
  readonly window?: string;
  /** Ratio (0..1) above which the rule is active. */
  readonly threshold: number;
}

/** A quantile of the request duration histogram over a window (`histogram_quantile`). */
export interface LatencyRuleSpec extends RuleBase {
  readonly kind: 'latency';
  /** Quantile in (0, 1). Default `0.99`. */
  readonly quantile?: number;
  readonly route?: string;
  /** Window. Default `5m`. */
  readonly window?: string;
  /** Seconds above which the rule is active. */
  readonly threshold: number;
}

/** Current value of any gauge (one alert per series that matches). */
export interface GaugeRuleSpec extends RuleBase {
  readonly kind: 'gauge';
  readonly metric: string;
  /** Equality matchers on the gauge's labels (e.g. `{ mountpoint: '/' }`). */
  readonly matchers?: Readonly<Record<string, string>>;
  /** Default `>`. */
  readonly op?: CompareOp;
  readonly threshold: number;
}

/** Per-second rate of any counter over a window, summed (optionally by some labels). */
export interface RateRuleSpec extends RuleBase {
  readonly kind: 'rate';
  readonly metric: string;
  readonly matchers?: Readonly<Record<string, string>>;
  /** Labels to keep when summing (one alert per group). Default: sum everything. */
  readonly by?: readonly string[];
  /** Window. Default `5m`. */
  readonly window?: string;
  /** Default `>`. */
  readonly op?: CompareOp;
  readonly threshold: number;
}

/** No requests (of a route, or at all) during a window. */
export interface AbsenceRuleSpec extends RuleBase {
  readonly kind: 'absence';
  readonly route?: string;
  /** Window. Default `10m`. */
  readonly window?: string;
}

/** One alerting rule. */
export type AlertRuleSpec = ErrorRatioRuleSpec | LatencyRuleSpec | GaugeRuleSpec | RateRuleSpec | AbsenceRuleSpec;

/** One multi-window burn-rate alert of an SLO (SRE Workbook, chapter 5). */
export interface BurnRateSpec {
  /** Long window, e.g. `1h`. */
  readonly long: string;
  /** Short window, e.g. `5m`. */
  readonly short: string;
  /** Burn-rate factor, e.g. `14.4`. */
  readonly factor: number;
  /** `severity` label. */
  readonly severity: string;
  /** `for` of the alert. Default `0s`. */
  readonly for?: string;
}

/** A service level objective. */
export interface SloSpec {
  /** SLO name (`slo` label; alerts are named `<name>ErrorBudgetBurn`). Letters, digits and `_`. */
  readonly name: string;
  /** Target share of good requests, in (0, 1): `0.999`. */
  readonly objective: number;
  /** Route template; omitted: all routes. */
  readonly route?: string;
  /** When set, a request is good when it finishes within this many seconds (a histogram bucket bound); else when it is not a 5xx. */
  readonly latency?: number;
  /** Compliance period of the error budget. Default `30d`. */
  readonly period?: string;
  /** Burn-rate alerts. Default: fast (1h & 5m at 14.4, `critical`) and slow (6h & 30m at 6, `warning`). */
  readonly burnRates?: readonly BurnRateSpec[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** State of one alert (or of a rule: the most severe of its alerts). */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

/** One alert as notifiers and `GET /alerts` see it. */
export interface AlertSnapshot {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: AlertState;
  /** Value of the rule's expression for this alert at the last evaluation. */
  readonly value: number;
  /** When the condition first held (pending began), ISO 8601. */
  readonly activeAt: string | undefined;
  /** When the alert started firing, ISO 8601. */
  readonly firedAt: string | undefined;
  /** When it resolved, ISO 8601. */
  readonly resolvedAt: string | undefined;
  /** When it entered its current state, ISO 8601. */
  readonly since: string;
}

/** One rule's status in `GET /alerts`. */
export interface RuleStatus {
  readonly name: string;
  readonly kind: string;
  readonly state: AlertState;
  /** Value at the last evaluation (the most extreme series), `null` when there was no data. */
  readonly value: number | null;
  /** When the rule entered its current state, ISO 8601. */
  readonly since: string;
  readonly for: string;
  readonly severity: string;
  readonly alerts: readonly AlertSnapshot[];
}

/** A notification handed to a notifier: the alerts that changed or are due for re-sending. */
export interface AlertNotification {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly value: number;
  /** ISO 8601. */
  readonly startsAt: string;
  /** ISO 8601: the resolve time, or for firing alerts when Alertmanager may consider them expired. */
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

/** A user-supplied notifier. Failures (throw or rejection) are retried, then reported; never thrown. */
export type AlertNotifierFn = (alerts: readonly AlertNotification[]) => void | Promise<void>;

/** Notifier configuration: the built-in kinds or a function (called on state changes). */
export type NotifierSpec =
  | { readonly type: 'log' }
  | { readonly type: 'webhook'; readonly url: string; readonly headers?: Readonly<Record<string, string>>; readonly repeatInterval?: string }
  | { readonly type: 'alertmanager'; readonly url: string; readonly headers?: Readonly<Record<string, string>> }
  | AlertNotifierFn;
