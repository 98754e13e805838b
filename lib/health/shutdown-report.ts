/** What `obs.shutdown()` could not deliver, and the stderr report of it (docs/spool.md, "Shutdown"). */

/** One destination's loss or spooled remainder. */
export interface ShutdownCount {
  /** `elasticsearch`, `loki`, `otlp`. */
  readonly destination: string;
  /** What was counted: `log lines` or `spans`. */
  readonly unit: string;
  readonly count: number;
  /** Where it is kept (the spool directory), for kept counts. */
  readonly where?: string;
}

/** What `obs.shutdown()` resolves to. */
export interface ShutdownReport {
  /** Lines and spans that will never arrive: the drain ended before they were delivered and no spool holds them. */
  readonly undelivered: readonly ShutdownCount[];
  /** Log lines left undelivered but kept in the spool for the next start. */
  readonly spooled: readonly ShutdownCount[];
  /** Shutdown steps that failed (each was reported as a warning). */
  readonly failedSteps: readonly string[];
  /** True when something was lost or a step failed: `obs.attachShutdown()` then exits with 1. */
  readonly failed: boolean;
}

/** Collects the counts of one shutdown; steps add to it, {@link ShutdownLedger.finish} reports. */
export class ShutdownLedger {
  readonly #undelivered: ShutdownCount[] = [];
  readonly #spooled: ShutdownCount[] = [];
  readonly #failed: string[] = [];

  /** `count` items of `destination` are lost. */
  lost(destination: string, unit: string, count: number): void {
    if (count > 0) this.#undelivered.push({ destination, unit, count });
  }

  /** `count` lines of `destination` wait in the spool at `where`. */
  kept(destination: string, unit: string, count: number, where: string): void {
    if (count > 0) this.#spooled.push({ destination, unit, count, where });
  }

  /** Step `name` failed. */
  failedStep(name: string): void {
    this.#failed.push(name);
  }

  /** The report; losses and spooled remainders are written to `write` (stderr) as one line each. */
  finish(write: (text: string) => void): ShutdownReport {
    const undelivered = Object.freeze([...this.#undelivered]);
    const spooled = Object.freeze([...this.#spooled]);
    if (undelivered.length > 0) {
      const parts = undelivered.map((c) => `${c.destination}: ${c.count} ${c.unit}`).join(', ');
      write(`express-observability: shutdown: NOT DELIVERED (lost): ${parts}; handed to onDeadLetter and counted in observability_log_lines_dropped_total{reason="shutdown"} / observability_spans_dropped_total\n`);
    }
    if (spooled.length > 0) {
      const parts = spooled.map((c) => `${c.destination}: ${c.count} ${c.unit} in ${c.where}`).join(', ');
      write(`express-observability: shutdown: kept in the spool for the next start: ${parts}\n`);
    }
    const failedSteps = Object.freeze([...this.#failed]);
    return Object.freeze({ undelivered, spooled, failedSteps, failed: undelivered.length > 0 || failedSteps.length > 0 });
  }
}
