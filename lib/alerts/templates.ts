/**
 * The subset of Prometheus alert templates the rule set accepts in annotations,
 * rendered here exactly as Prometheus renders them (Go's float formatting), so an
 * alert reads the same whether it fired in-process or in Prometheus.
 */

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;
const FUNCS = ['humanize', 'humanizePercentage', 'humanizeDuration'] as const;
type Func = (typeof FUNCS)[number];

/** One parsed `{{ ... }}` action. */
type Action =
  | { readonly kind: 'value'; readonly fn: Func | undefined }
  | { readonly kind: 'label'; readonly name: string }
  | { readonly kind: 'printf'; readonly digits: number };

function parseAction(body: string): Action | undefined {
  if (body === '$value') return { kind: 'value', fn: undefined };
  const label = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(body);
  if (label) return { kind: 'label', name: label[1] as string };
  const pipe = /^\$value\s*\|\s*(\w+)$/.exec(body) ?? /^(\w+)\s+\$value$/.exec(body);
  if (pipe && (FUNCS as readonly string[]).includes(pipe[1] as string)) return { kind: 'value', fn: pipe[1] as Func };
  const printf = /^printf\s+"%\.(\d)f"\s+\$value$/.exec(body);
  if (printf) return { kind: 'printf', digits: Number(printf[1]) };
  return undefined;
}

/** Returns an error text when `template` uses anything outside the supported subset. */
export function checkTemplate(template: string): string | undefined {
  const stripped = template.replace(ACTION, '');
  if (stripped.includes('{{') || stripped.includes('}}')) return 'has an unbalanced "{{" or "}}"';
  for (const m of template.matchAll(ACTION)) {
    if (!parseAction(m[1] as string)) {
      return `uses the unsupported template action "{{ ${m[1]} }}" (supported: $value, $labels.<name>, $value | humanize, humanizePercentage, humanizeDuration, printf "%.Nf" $value)`;
    }
  }
  return undefined;
}

/** Render a checked template with the alert's value and labels. */
export function renderTemplate(template: string, value: number, labels: Readonly<Record<string, string>>): string {
  return template.replace(ACTION, (_all, body: string) => {
    const a = parseAction(body);
    if (!a) return '';
    if (a.kind === 'label') return labels[a.name] ?? '';
    if (a.kind === 'printf') return fixedHalfEven(value, a.digits);
    if (a.fn === 'humanize') return humanize(value);
    if (a.fn === 'humanizePercentage') return `${goG(value * 100, 4)}%`;
    if (a.fn === 'humanizeDuration') return humanizeDuration(value);
    return goFloat(value);
  });
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return undefined;
}

/** Go's exponent notation: at least two exponent digits (`1e-05`). */
function goExp(mantissa: string, exp: number): string {
  const sign = exp < 0 ? '-' : '+';
  const digits = String(Math.abs(exp)).padStart(2, '0');
  return `${mantissa}e${sign}${digits}`;
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Go's `%v` of a float64 (shortest representation; exponent below 1e-4 and from 1e21). */
export function goFloat(v: number): string {
  const s = special(v);
  if (s) return s;
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 21) {
    const [mant, e] = v.toExponential().split('e');
    return goExp(mant as string, Number(e));
  }
  return String(v);
}

/** Is the rest of an exact expansion (`digits` after the kept ones) exactly one half: `5`, then zeros? */
const HALF = /^50*$/;

/**
 * `v.toFixed(digits)` rounded as Go rounds: a value exactly halfway (as a binary double) goes to the even
 * digit, where JavaScript goes away from zero (`0.125` to 2 places: Go `0.12`, JavaScript `0.13`).
 * `toFixed(100)` is the exact expansion of every double that can be a tie at fewer than 100 places.
 */
export function fixedHalfEven(v: number, digits: number): string {
  const exact = v.toFixed(100);
  const point = exact.indexOf('.');
  if (point === -1 || !HALF.test(exact.slice(point + 1 + digits))) return v.toFixed(digits);
  // A tie: the kept digits stay when their last one is even; JavaScript's rounding up is Go's otherwise.
  const kept = exact.slice(0, digits === 0 ? point : point + 1 + digits);
  return Number(kept.slice(-1)) % 2 === 0 ? kept : v.toFixed(digits);
}

/** `v.toExponential(digits)`'s mantissa and exponent, rounded as Go rounds (see {@link fixedHalfEven}). */
function exponentialHalfEven(v: number, digits: number): [string, number] {
  const [exactMant, exactExp] = v.toExponential(100).split('e') as [string, string];
  const point = exactMant.indexOf('.');
  const kept = exactMant.slice(0, digits === 0 ? point : point + 1 + digits);
  if (HALF.test(exactMant.slice(point + 1 + digits)) && Number(kept.slice(-1)) % 2 === 0) return [kept, Number(exactExp)];
  const [mant, e] = v.toExponential(digits).split('e') as [string, string];
  return [mant, Number(e)];
}

/** Go's `%.<p>g`. */
export function goG(v: number, p: number): string {
  const s = special(v);
  if (s) return s;
  if (v === 0) return '0';
  const [mant, exp] = exponentialHalfEven(v, p - 1);
  if (exp < -4 || exp >= p) return goExp(stripZeros(mant), exp);
  return stripZeros(fixedHalfEven(v, Math.max(0, p - 1 - exp)));
}

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return goG(v, 4);
  let x = v;
  let prefix = '';
  if (Math.abs(x) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(x) < 1000) break;
      prefix = p;
      x /= 1000;
    }
  } else {
    for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
      if (Math.abs(x) >= 1) break;
      prefix = p;
      x *= 1000;
    }
  }
  return `${goG(x, 4)}${prefix}`;
}

function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return goG(v, 4);
  if (v === 0) return '0s';
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    const abs = Math.abs(v);
    const total = Math.trunc(abs);
    const seconds = total % 60;
    const minutes = Math.trunc(total / 60) % 60;
    const hours = Math.trunc(total / 3600) % 24;
    const days = Math.trunc(total / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${goG(abs, 4)}s`;
  }
  let x = v;
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(x) >= 1) break;
    prefix = p;
    x *= 1000;
  }
  return `${goG(x, 4)}${prefix}s`;
}
