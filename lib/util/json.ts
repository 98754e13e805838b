/**
 * JSON of single values without `JSON.stringify`'s generic walk, for the templates that write log
 * lines and stored spans: each gives exactly the bytes `JSON.stringify` gives for the same value.
 */

/** Printable ASCII without `"` and `\`: a string JSON writes as itself between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `JSON.stringify(s)` of a string, without the serialiser for plain ASCII (a timestamp, an address, an id). */
export function jsonText(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** `JSON.stringify(n)` of a number (integers and shortest doubles are `String(n)`; non-finite: `null`). */
export function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}
