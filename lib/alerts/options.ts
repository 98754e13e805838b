import { readFileSync } from 'node:fs';
import { MAX_TIMER_MS, readHeaders, readSection, readStringRecord, type Bag } from '../util/validate';
import { parseDuration } from './duration';
import { resolveRule, resolveSlo, RuleError, type ResolvedRule, type ResolvedSlo } from './rules';
import type { AlertNotifierFn, AlertRuleSpec, NotifierSpec, SloSpec } from './types';

/** Options of the alert rule set (`alerts` key of `createObservability()`, or the content of a rules file). */
export interface AlertsOptions {
  /** Evaluate rules in-process. Default `true` (nothing runs when there are no rules). */
  readonly enabled?: boolean;
  /** YAML or JSON file with the same keys as this section (no functions); options given here win, rules and SLOs add up. */
  readonly file?: string;
  /** Alerting rules. */
  readonly rules?: readonly AlertRuleSpec[];
  /** Service level objectives (burn-rate alerts + error-budget gauge). */
  readonly slos?: readonly SloSpec[];
  /** Evaluation interval (Prometheus duration or ms). Default `15s`. */
  readonly interval?: string | number;
  /** Re-send interval of firing alerts to Alertmanager (Prometheus's `--rules.alert.resend-delay`). Default `1m`. */
  readonly resendInterval?: string | number;
  /** Where notifications go. Default `[{ type: 'log' }]`. */
  readonly notifiers?: readonly NotifierSpec[];
  /** Deliveries retried this many times (exponential backoff from 500 ms) before the failure is reported. Default `3`. */
  readonly retries?: number;
  /** `generatorURL` of alerts. Default `http://<hostname>/alerts`. */
  readonly generatorUrl?: string;
  /** Labels added to every in-process alert (like Prometheus's `external_labels`). Default `{}`. */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** Prometheus rule-file export settings. */
  readonly export?: AlertsExportOptions;
}

/** How the rule set is rendered as a Prometheus rule file. */
export interface AlertsExportOptions {
  /** Labels kept when request metrics are summed across instances. Default `['job']`. */
  readonly groupBy?: readonly string[];
  /** Equality matchers added to every selector, e.g. `{ job: 'shop' }`. Default `{}`. */
  readonly matchers?: Readonly<Record<string, string>>;
  /** Rule group name prefix. Default `express-observability`. */
  readonly groupName?: string;
}

/** A resolved notifier configuration. */
export type ResolvedNotifier =
  | { readonly type: 'log' }
  | { readonly type: 'webhook'; readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly repeatIntervalMs: number }
  | { readonly type: 'alertmanager'; readonly url: string; readonly headers: Readonly<Record<string, string>> }
  | { readonly type: 'function'; readonly fn: AlertNotifierFn };

/** Alert options with every default filled in. */
export interface ResolvedAlertsOptions {
  readonly enabled: boolean;
  readonly rules: readonly ResolvedRule[];
  readonly slos: readonly ResolvedSlo[];
  readonly intervalMs: number;
  readonly resendIntervalMs: number;
  readonly notifiers: readonly ResolvedNotifier[];
  readonly retries: number;
  readonly generatorUrl: string | undefined;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly groupBy: readonly string[];
  readonly matchers: Readonly<Record<string, string>>;
  readonly groupName: string;
}

const KEYS = ['enabled', 'file', 'rules', 'slos', 'interval', 'resendInterval', 'notifiers', 'retries', 'generatorUrl', 'externalLabels', 'export'];
const EXPORT_KEYS = ['groupBy', 'matchers', 'groupName'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function fail(field: string, msg: string): never {
  throw new RuleError(`express-observability: option "alerts.${field}" ${msg}`);
}

/** A duration: at least `min` ms, at most `max` (a timer's: Node's longest, else it fires after 1 ms). */
function durationOf(v: unknown, field: string, fallback: number, min = 1, max = Infinity): number {
  if (v === undefined) return fallback;
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined || !Number.isFinite(ms)) fail(field, `must be a Prometheus duration like "15s" or milliseconds, got ${JSON.stringify(v)}`);
  if (ms < min) fail(field, `must be at least ${min} ms, got ${JSON.stringify(v)}`);
  if (ms > max) fail(field, `must be at most ${max} ms (about 24.8 days), got ${JSON.stringify(v)}`);
  return ms;
}

/** Read a YAML or JSON rules file into an options bag (errors name the file). */
export function loadRulesFile(file: string): Bag {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RuleError(`express-observability: option "alerts.file": the rules file "${file}" cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (err) {
    throw new RuleError(`express-observability: alert rules file "${file}" is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new RuleError(`express-observability: alert rules file "${file}" must hold an object with "rules" and/or "slos"`);
  }
  if ('file' in doc) throw new RuleError(`express-observability: alert rules file "${file}" may not name another "file"`);
  return doc as Bag;
}

function arrayOf(v: unknown, field: string): readonly unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(field, `must be an array, got ${typeof v}`);
  return v;
}

function resolveNotifier(v: unknown, i: number): ResolvedNotifier {
  const field = `notifiers[${i}]`;
  if (typeof v === 'function') return { type: 'function', fn: v as AlertNotifierFn };
  const n = readSection(v, `alerts.${field}`, ['type', 'url', 'headers', 'repeatInterval']);
  if (n.type === 'log') return { type: 'log' };
  if (n.type !== 'webhook' && n.type !== 'alertmanager') fail(`${field}.type`, `must be "log", "webhook" or "alertmanager", got ${JSON.stringify(n.type)}`);
  let url: URL | undefined;
  try {
    url = typeof n.url === 'string' ? new URL(n.url) : undefined;
  } catch {
    url = undefined; // reported just below with the option's name
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail(`${field}.url`, `must be an http(s) URL, got ${JSON.stringify(n.url)}`);
  const headers = readHeaders(n, 'headers', `alerts.${field}`);
  const base = String(n.url).replace(/\/+$/, '');
  if (n.type === 'alertmanager') return { type: 'alertmanager', url: base, headers };
  return { type: 'webhook', url: String(n.url), headers, repeatIntervalMs: durationOf(n.repeatInterval, `${field}.repeatInterval`, 4 * 3600_000) };
}

function labelNames(v: unknown, field: string): readonly string[] {
  const arr = arrayOf(v, field);
  arr.forEach((l, i) => {
    if (typeof l !== 'string' || !LABEL_NAME.test(l)) fail(`${field}[${i}]`, `must be a label name, got ${JSON.stringify(l)}`);
  });
  return Object.freeze([...(arr as string[])]);
}

/**
 * Validate the `alerts` section (merging its `file`, read once here) and resolve
 * every default. Errors name the rule and the field.
 */
export function resolveAlertsOptions(value: unknown, buckets?: readonly number[]): ResolvedAlertsOptions {
  const given = readSection(value, 'alerts', KEYS);
  const fromFile = typeof given.file === 'string' ? readSection(loadRulesFile(given.file), `alerts (file ${given.file})`, KEYS) : {};
  if (given.file !== undefined && typeof given.file !== 'string') fail('file', `must be a path string, got ${typeof given.file}`);
  const a: Bag = { ...fromFile, ...given };
  const inFile = `file ${String(given.file)}`;
  const rules = [
    ...arrayOf(fromFile.rules, 'rules').map((r, i) => resolveRule(r, `${inFile}: rules[${i}]`)),
    ...arrayOf(given.rules, 'rules').map((r, i) => resolveRule(r, `alerts.rules[${i}]`)),
  ];
  const slos = [
    ...arrayOf(fromFile.slos, 'slos').map((s, i) => resolveSlo(s, `${inFile}: slos[${i}]`, buckets)),
    ...arrayOf(given.slos, 'slos').map((s, i) => resolveSlo(s, `alerts.slos[${i}]`, buckets)),
  ];
  // SLOs first: two SLOs of one name also define their burn-rate alerts twice.
  const sloNames = new Set(slos.map((s) => s.name));
  if (sloNames.size !== slos.length) fail('slos', 'define two SLOs with the same name');
  const names = new Set<string>();
  for (const r of [...rules, ...slos.flatMap((s) => s.alerts)]) {
    const key = `${r.name}\u0000${JSON.stringify(r.labels)}`;
    if (names.has(key)) fail('rules', `define the alert "${r.name}" twice with the same labels`);
    names.add(key);
  }

  if (a.enabled !== undefined && typeof a.enabled !== 'boolean') fail('enabled', `must be a boolean, got ${JSON.stringify(a.enabled)}`);
  const retries = a.retries ?? 3;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > 20) fail('retries', `must be an integer 0..20, got ${JSON.stringify(retries)}`);
  if (a.generatorUrl !== undefined && (typeof a.generatorUrl !== 'string' || !/^https?:\/\//.test(a.generatorUrl))) {
    fail('generatorUrl', `must be an http(s) URL, got ${JSON.stringify(a.generatorUrl)}`);
  }
  const exp = readSection(a.export, 'alerts.export', EXPORT_KEYS);
  const matchers = readStringRecord(exp, 'matchers', 'alerts.export');
  for (const [k, v] of Object.entries(matchers)) {
    if (!LABEL_NAME.test(k)) fail(`export.matchers.${k}`, 'is not a valid label name');
    if (/["\\\n\r\t{}]/.test(v)) fail(`export.matchers.${k}`, `contains a character that would break PromQL: ${JSON.stringify(v)}`);
  }
  const groupName = exp.groupName ?? 'express-observability';
  if (typeof groupName !== 'string' || !/^[\w.:/-]+$/.test(groupName)) fail('export.groupName', `must be a plain name, got ${JSON.stringify(groupName)}`);
  const externalLabels = readStringRecord(a, 'externalLabels', 'alerts');
  for (const k of Object.keys(externalLabels)) if (!LABEL_NAME.test(k)) fail(`externalLabels.${k}`, 'is not a valid label name');

  return Object.freeze({
    enabled: a.enabled ?? true,
    rules: Object.freeze(rules),
    slos: Object.freeze(slos),
    intervalMs: durationOf(a.interval, 'interval', 15_000, 10, MAX_TIMER_MS),
    resendIntervalMs: durationOf(a.resendInterval, 'resendInterval', 60_000, 10),
    notifiers: Object.freeze(a.notifiers === undefined ? [{ type: 'log' } as const] : arrayOf(a.notifiers, 'notifiers').map(resolveNotifier)),
    retries,
    generatorUrl: a.generatorUrl as string | undefined,
    externalLabels,
    groupBy: exp.groupBy === undefined ? Object.freeze(['job']) : labelNames(exp.groupBy, 'export.groupBy'),
    matchers,
    groupName,
  });
}

/** The YAML parser, loaded when a rule file is read (it is the largest module the alerts need; start-up cost). */
function yaml(): typeof import('yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy loading
  return require('yaml') as typeof import('yaml');
}
