/**
 * Redaction of span data before it leaves the span: a span processor whose `onEnding` hook
 * (called while the span can still be changed, before any `onEnd`, so before export and the
 * dashboard's ring) redacts the name, attributes, event names and attributes (exceptions included), link
 * attributes and the status message of every span of the instance's provider.
 */
import { SpanStatusCode, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Redactor } from './redactor';

/** Applies the instance's {@link Redactor} to every span as it ends; register it first. */
export class RedactingSpanProcessor implements SpanProcessor {
  readonly #r: Redactor;

  /** A processor applying `redactor`. */
  constructor(redactor: Redactor) {
    this.#r = redactor;
  }

  /** Nothing to do when a span starts: attributes may still change until it ends. */
  onStart(_span: Span, _parentContext: Context): void {
    // Redaction happens once, in onEnding.
  }

  /** Redact the ending span in place (it is still writable here). */
  onEnding(span: Span): void {
    const r = this.#r;
    const name = r.text(span.name);
    if (name !== span.name) span.updateName(name);
    const attrs = span.attributes;
    for (const key in attrs) {
      const v = attrs[key];
      if (v === undefined || v === null) continue;
      const red = r.attribute(key, v);
      if (red !== v) span.setAttribute(key, red);
    }
    for (const e of span.events) {
      const eventName = r.text(e.name);
      // The SDK's events are plain objects, writable until the span has ended.
      if (eventName !== e.name) (e as { name: string }).name = eventName;
      if (e.attributes) r.attributesInPlace(e.attributes);
    }
    for (const l of span.links) if (l.attributes) r.attributesInPlace(l.attributes);
    const message = span.status.message;
    if (message !== undefined && span.status.code === SpanStatusCode.ERROR) {
      const red = r.text(message);
      if (red !== message) span.setStatus({ code: SpanStatusCode.ERROR, message: red });
    }
  }

  /** Nothing left to do once the span ended. */
  onEnd(_span: ReadableSpan): void {
    // Done in onEnding.
  }

  /** Nothing buffered. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to release. */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
