/** Tracing subsystem: re-exports only. */
export { activeSpanIds } from './active';
export type { SpanIds } from './active';
