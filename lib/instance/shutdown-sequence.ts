import { ShutdownLedger, type ShutdownReport } from '../health/shutdown-report';

/**
 * A step of `shutdown()`; steps run in ascending `order` ({@link SHUTDOWN_ORDER}), each bounded by its
 * own option (`tracing.shutdownTimeoutMillis`, `logging.shutdownTimeoutMs`); there is no cap above them.
 */
export interface ShutdownStep {
  readonly name: string;
  /** Where the step runs: one of {@link SHUTDOWN_ORDER}'s values (lower runs first). */
  readonly order: number;
  /** Run the step; `ledger` takes what it could not deliver. */
  run(ledger: ShutdownLedger): Promise<void> | void;
  /** The process exits now (a forced shutdown): account for what is undelivered, synchronously. */
  abandon?(ledger: ShutdownLedger): void;
}

/**
 * The instance's shutdown: its steps in order, once (every call returns the same report), or
 * abandoned at once when the process must exit. The report goes to stderr when something was lost.
 */
export class ShutdownSequence {
  readonly #steps: ShutdownStep[] = [];
  readonly #reportError: (component: string, err: unknown) => void;
  #running: Promise<ShutdownReport> | undefined;
  #abandoned: ShutdownReport | undefined;

  /** Step failures go to `reportError` (and make the report say so). */
  constructor(reportError: (component: string, err: unknown) => void) {
    this.#reportError = reportError;
  }

  /** Run `step` during the shutdown. */
  add(step: ShutdownStep): void {
    this.#steps.push(step);
  }

  /** Run every step in order; idempotent. */
  run(): Promise<ShutdownReport> {
    this.#running ??= this.#runSteps();
    return this.#running;
  }

  /** A forced end: every step accounts for what it leaves undelivered, synchronously; idempotent. */
  abandon(): ShutdownReport {
    if (this.#abandoned) return this.#abandoned;
    const ledger = new ShutdownLedger();
    for (const step of this.#ordered()) {
      try {
        step.abandon?.(ledger);
      } catch (err) {
        this.#failed(ledger, step, err);
      }
    }
    this.#abandoned = ledger.finish(writeStderr);
    return this.#abandoned;
  }

  async #runSteps(): Promise<ShutdownReport> {
    const ledger = new ShutdownLedger();
    for (const step of this.#ordered()) {
      try {
        await step.run(ledger);
      } catch (err) {
        this.#failed(ledger, step, err);
      }
    }
    return ledger.finish(writeStderr);
  }

  #ordered(): ShutdownStep[] {
    return [...this.#steps].sort((a, b) => a.order - b.order);
  }

  #failed(ledger: ShutdownLedger, step: ShutdownStep, err: unknown): void {
    ledger.failedStep(step.name);
    this.#reportError(`shutdown:${step.name}`, err);
  }
}

function writeStderr(text: string): void {
  process.stderr.write(text);
}
