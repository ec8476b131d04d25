/**
 * The gateway's hop in a trace: a typed-service request a browser sends through the gateway
 * carries the browser's `traceparent` in its envelope; while an SDK records, the gateway starts a
 * span for the hop (the browser's span is its parent), forwards the request with its own span as
 * the `traceparent` (a same-length copy of the body: only Ferry's envelope changes, never a Spark
 * frame), and ends the span with the backend's reply. Requests without a trace element pass
 * through untouched and unallocated.
 *
 * @module
 */

import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { traceparentOf, withTraceparent } from "../rpc/rpc-envelope.ts";
import { activeTracer, formatTraceparent, parseTraceparent } from "../observability/tracing.ts";

/** Sends `body` to the backend through `send`, as one hop of the browser's trace when traced. */
export function traceGatewayHop(
  body: Uint8Array,
  backend: string,
  send: (body: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const tracer = activeTracer();
  if (tracer === undefined) return send(body);
  const remote = parseTraceparent(traceparentOf(body));
  if (remote === undefined) return send(body);
  const parent = trace.setSpanContext(context.active(), remote);
  const span = tracer.startSpan("ferry.gateway", {
    kind: SpanKind.SERVER,
    attributes: { "rpc.system": "ferry", "server.address": backend },
  }, parent);
  const own = formatTraceparent(span.spanContext());
  const forwarded = own === undefined ? body : withTraceparent(body, own);
  const reply = context.with(trace.setSpan(parent, span), () => send(forwarded));
  reply.then(() => span.end(), (error) => {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: String((error as Error)?.message ?? error),
    });
    span.end();
  });
  return reply;
}
