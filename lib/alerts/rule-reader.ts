import { describe } from '../util/validate';
import { formatDuration, parseDuration } from './duration';
import { checkTemplate } from './templates';
import type { CompareOp } from './types';

/** A rule set that cannot be used; the message names the rule and the field. */
export class RuleError extends TypeError {
  override readonly name = 'RuleError';
}

/** Alert, SLO and label names: letters, digits and `_`, not starting with a digit. */
export const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels a rule may not set itself. */
export const RESERVED = ['alertname', 'severity', '__name__'];
const OPS: readonly CompareOp[] = ['>', '>=', '<', '<=', '==', '!='];

/** The object a rule, an SLO or a burn rate is read from; errors name `what` and `where`. */
export function bagOf(v: unknown, where: string, what: string): Readonly<Record<string, unknown>> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RuleError(`express-observability: ${what} (${where}) must be an object, got ${describe(v)}`);
  return v as Readonly<Record<string, unknown>>;
}

/** Reads the fields of one rule (or SLO, or burn rate); every error names the rule and the field. */
export class RuleReader {
  /** Read `bag`, located by `where` (`alerts.rules[2]`), described by `what` (`alert rule "X"`). */
  constructor(
    readonly bag: Readonly<Record<string, unknown>>,
    readonly where: string,
    readonly what: string,
  ) {}

  /** Throw the RuleError naming the rule and `field`. */
  fail(field: string, msg: string): never {
    throw new RuleError(`express-observability: ${this.what} (${this.where}) field "${field}" ${msg}`);
  }

  /** Fail on a field not in `allowed`. */
  known(allowed: readonly string[]): void {
    for (const k of Object.keys(this.bag)) if (!allowed.includes(k)) this.fail(k, `is not a known field (known: ${allowed.join(', ')})`);
  }

  /** A string safe inside a PromQL "..." literal and a YAML scalar, never a template. */
  safe(field: string, v: unknown, optional = true): string | undefined {
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.length === 0) this.fail(field, `must be a non-empty string, got ${describe(v)}`);
    // eslint-disable-next-line no-control-regex
    if (/["\\`\u0000-\u001f\u007f]/.test(v) || v.includes('{{')) {
      this.fail(field, `value ${JSON.stringify(v)} would break the PromQL/YAML export (quotes, backslashes, control characters and "{{" are not allowed)`);
    }
    return v;
  }

  /** A Prometheus duration in ms; required unless `fallback` is given. */
  duration(field: string, fallback: string | undefined): number {
    const v = this.bag[field] ?? fallback;
    if (v === undefined) this.fail(field, 'is required (a Prometheus duration like "5m")');
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined) this.fail(field, `must be a Prometheus duration like "30s", "5m" or "1h", got ${describe(v)}`);
    return ms;
  }

  /** A finite number; required unless `fallback` is given; `check` returns what is wrong with it. */
  number(field: string, fallback?: number, check?: (n: number) => string | undefined): number {
    const v = this.bag[field] ?? fallback;
    if (v === undefined) this.fail(field, 'is required (a number)');
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `must be a finite number, got ${describe(v)}`);
    const err = check?.(v);
    if (err) this.fail(field, `${err}, got ${v}`);
    return v;
  }

  /** An object of label/annotation names to strings: annotation templates when `templates`, else safe strings. */
  record(field: string, templates: boolean): Record<string, string> {
    const v = this.bag[field];
    if (v === undefined) return {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, `must be an object of strings, got ${describe(v)}`);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (!NAME.test(k) || k.startsWith('__')) this.fail(`${field}.${k}`, 'is not a valid label/annotation name');
      if (templates) {
        if (typeof val !== 'string') this.fail(`${field}.${k}`, `must be a string, got ${describe(val)}`);
        const err = checkTemplate(val);
        if (err) this.fail(`${field}.${k}`, err);
        out[k] = val;
      } else {
        out[k] = this.safe(`${field}.${k}`, val, false) as string;
      }
    }
    return out;
  }

  /** `route`: a route template, or undefined for every route. */
  route(): string | undefined {
    return this.safe('route', this.bag.route);
  }

  /** `metric`: a required metric name. */
  metric(): string {
    const metric = this.bag.metric;
    if (metric === undefined) this.fail('metric', 'is required');
    if (typeof metric !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric)) this.fail('metric', `must be a metric name, got ${describe(metric)}`);
    return metric;
  }

  /** `matchers`: equality matchers on the metric's labels. */
  matchers(): Readonly<Record<string, string>> {
    return Object.freeze(this.record('matchers', false));
  }

  /** `by`: label names to keep when summing. */
  by(): readonly string[] {
    const by: unknown = this.bag.by === undefined ? [] : this.bag.by;
    if (!Array.isArray(by)) this.fail('by', `must be an array of label names, got ${describe(this.bag.by)}`);
    by.forEach((l: unknown, i: number) => {
      if (typeof l !== 'string' || !NAME.test(l)) this.fail(`by[${i}]`, `must be a label name, got ${describe(l)}`);
    });
    return Object.freeze([...(by as string[])]);
  }

  /** `op`: the comparison with the threshold, `>` by default. */
  op(): CompareOp {
    const op = (this.bag.op ?? '>') as CompareOp;
    if (!OPS.includes(op)) this.fail('op', `must be one of ${OPS.join(' ')}, got ${describe(this.bag.op)}`);
    return op;
  }

  /** `window`: a duration of at least 1s. */
  window(fallback: string): number {
    const ms = this.duration('window', fallback);
    if (ms < 1000) this.fail('window', `must be at least 1s, got ${formatDuration(ms)}`);
    return ms;
  }
}
