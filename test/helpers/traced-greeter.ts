/**
 * The typed service of the tracing tests, shared by the page, the gateway test and the Deno
 * server process; and how a finished span is reported across process and page boundaries.
 */
import { defineService, method } from "../../src/rpc/service-definition.ts";

export const tracedGreeter = defineService("test.greeter", {
  hello: method<{ name: string }, string>(),
});

/** A finished span, as plain data (JSON across processes, structured clone out of the page). */
export interface SpanRecord {
  readonly name: string;
  /** `SpanKind`: 0 internal, 1 server, 2 client. */
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
}

/** What the SDK's `ReadableSpan` offers (no SDK type imported here). */
export interface FinishedSpan {
  readonly name: string;
  readonly kind: number;
  spanContext(): { traceId: string; spanId: string };
  readonly parentSpanContext?: { spanId: string } | undefined;
}

export function spanRecord(span: FinishedSpan): SpanRecord {
  const { traceId, spanId } = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
  };
}
