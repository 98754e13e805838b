import { formatDuration } from './duration';
import { DURATION_METRIC } from './series';

/** The export settings PromQL selectors and aggregations depend on. */
export interface PromqlSettings {
  /** Labels kept when request metrics are summed across instances. */
  readonly groupBy: readonly string[];
  /** Equality matchers added to every selector. */
  readonly matchers: Readonly<Record<string, string>>;
}

/** Name of the recorded SLI error ratio over `windowMs`. */
export function sliRecordName(windowMs: number): string {
  return `slo:sli_error:ratio_rate${formatDuration(windowMs)}`;
}

/** Name of the recorded error budget remaining. */
export const BUDGET_RECORD = 'slo:error_budget_remaining:ratio';

/** Name of the recorded objective (a constant per SLO), so a burn rate is `ratio / on(slo) group_left() (1 - objective)`. */
export const OBJECTIVE_RECORD = 'slo:objective:ratio';

/** Renders the PromQL pieces rule kinds are made of, with the export's matchers and aggregation labels. */
export class PromqlBuilder {
  /** Pieces for an export with settings `s`. */
  constructor(readonly s: PromqlSettings) {}

  /** `metric{matchers, extra, route, regex}`. */
  selector(metric: string, route: string | undefined, extra: Readonly<Record<string, string>> = {}, regex: Readonly<Record<string, string>> = {}): string {
    const parts = Object.entries({ ...this.s.matchers, ...extra }).map(([k, v]) => `${k}="${v}"`);
    if (route !== undefined) parts.push(`route="${route}"`);
    for (const [k, v] of Object.entries(regex)) parts.push(`${k}=~"${v}"`);
    return parts.length ? `${metric}{${parts.join(',')}}` : metric;
  }

  /** `sum by (extraBy, groupBy) (inner)`, or `sum(inner)` without labels to keep. */
  sum(inner: string, extraBy: readonly string[] = []): string {
    const by = [...new Set([...extraBy, ...this.s.groupBy])];
    return by.length ? `sum by (${by.join(', ')}) (${inner})` : `sum(${inner})`;
  }

  /** `sum by (…) (fn(selector[w]))`. */
  over(fn: 'rate' | 'increase', selector: string, w: string, extraBy: readonly string[] = []): string {
    return this.sum(`${fn}(${selector}[${w}])`, extraBy);
  }

  /** Requests per second of `route` (all routes when undefined) over `w`. */
  requests(route: string | undefined, w: string): string {
    return this.over('rate', this.selector(`${DURATION_METRIC}_count`, route), w);
  }

  /** 5xx responses per second of `route` over `w`. */
  errors(route: string | undefined, w: string): string {
    return this.over('rate', this.selector(`${DURATION_METRIC}_count`, route, {}, { status_code: '5..' }), w);
  }
}
