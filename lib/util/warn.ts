/** The message of a thrown value (an Error's `message`, anything else stringified). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Emit a process warning of this package: `express-observability: <message>`, code
 * `EXPRESS_OBSERVABILITY` (what `node --no-warnings` or a `process.on('warning')` handler sees).
 */
export function warn(message: string): void {
  process.emitWarning(`express-observability: ${message}`, { code: 'EXPRESS_OBSERVABILITY' });
}

/**
 * The default failure reporter: warns `<component> failed: <message>`. `redact` (default: none)
 * scrubs the message first.
 */
export function warnFailure(component: string, err: unknown, redact?: (text: string) => string): void {
  const message = errorMessage(err);
  warn(`${component} failed: ${redact ? redact(message) : message}`);
}
