/**
 * Spans through `@opentelemetry/api`'s global TracerProvider (a no-op until the application
 * registers an SDK), and W3C trace context (`traceparent`) in text form for typed-service
 * envelopes.
 *
 * - Typed-service calls: a CLIENT span around `serviceClient`'s call, whose context travels in the
 *   request envelope; the router's SERVER span is its child, even across runtimes.
 * - Every other request on a tapped connection: a CLIENT span for requests this side sent and a
 *   SERVER span for requests it served (Spark frames have no room for trace context, so these
 *   are not joined across the wire).
 *
 * @module
 */

import {
  type Context,
  context,
  isSpanContextValid,
  type ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

/**
 * The instrumentation scope name every Ferry span is created under.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { FERRY_TRACER_NAME } from "ferry-transport/observability";
 *
 * const tracer = trace.getTracer(FERRY_TRACER_NAME); // the tracer Ferry's spans come from
 * console.log(tracer);
 * ```
 */
export const FERRY_TRACER_NAME = "ferry";

/**
 * The tracer of a registered SDK, or undefined when none is registered (then no span is worth
 * creating). A lookup in the provider: call it per connection or per typed call, not per message.
 */
export function activeTracer(): Tracer | undefined {
  // The global provider is a ProxyTracerProvider, whose delegate is the SDK's once registered.
  // Duck-typed: the application's copy of the API may not be Ferry's (instanceof would fail).
  const provider = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  if (typeof provider.getDelegateTracer === "function") {
    return provider.getDelegateTracer(FERRY_TRACER_NAME);
  }
  return trace.getTracer(FERRY_TRACER_NAME);
}

/** `00-<trace id>-<span id>-<flags>`, or undefined for an invalid context. */
export function formatTraceparent(spanContext: SpanContext): string | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Parses a `traceparent` received from a peer. Anything malformed (or version ff, or all-zero ids)
 * is ignored, as the W3C specification asks: the call proceeds without a remote parent.
 */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== "string" || value.length > 128) return undefined;
  const match = TRACEPARENT.exec(value);
  if (match === null || match[1] === "ff") return undefined;
  // Version 00 has exactly these four fields; later versions may append more (ignored).
  if (match[1] === "00" && value.length !== 55) return undefined;
  const spanContext: SpanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: parseInt(match[4]!, 16) & 0x01,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** A span Ferry started, and how to end it. */
export interface FerrySpan {
  readonly span: Span;
  /** This span's context as a `traceparent` (for the request envelope). */
  readonly traceparent: string | undefined;
  /** The context with this span active (to run the handler in). */
  readonly context: Context;
  end(error?: unknown): void;
}

function started(span: Span, parent: Context): FerrySpan {
  return {
    span,
    traceparent: formatTraceparent(span.spanContext()),
    context: trace.setSpan(parent, span),
    end(error?: unknown) {
      if (error !== undefined) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: typeof error === "string" ? error : String((error as Error)?.message ?? error),
        });
        span.setAttribute(
          "error.type",
          typeof error === "string"
            ? error
            : String((error as { code?: unknown })?.code ?? (error as Error)?.name ?? "Error"),
        );
      }
      span.end();
    },
  };
}

/**
 * Starts the CLIENT span of a typed-service call, a child of the active context. Without an SDK,
 * a parent's context active in the caller still propagates (its `traceparent` is returned).
 */
export function startServiceClientSpan(
  service: string,
  method: string,
  peer: string | undefined,
): FerrySpan | undefined {
  const tracer = activeTracer();
  const parent = context.active();
  if (tracer === undefined) {
    const inherited = trace.getSpanContext(parent);
    if (inherited === undefined || !isSpanContextValid(inherited)) return undefined;
    // No SDK here: pass the caller's context on unchanged (no span of our own).
    const span = trace.wrapSpanContext(inherited);
    return {
      span,
      traceparent: formatTraceparent(inherited),
      context: parent,
      end() {},
    };
  }
  const span = tracer.startSpan(`${service}/${method}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      "rpc.system": "ferry",
      "rpc.service": service,
      "rpc.method": method,
      ...(peer === undefined ? {} : { "server.address": peer }),
    },
  }, parent);
  return started(span, parent);
}

/** Starts the SERVER span of a typed-service call, the child of `traceparent` when valid. */
export function startServiceServerSpan(
  service: string,
  method: string,
  traceparent: unknown,
): FerrySpan | undefined {
  const tracer = activeTracer();
  if (tracer === undefined) return undefined;
  const remote = parseTraceparent(traceparent);
  const parent = remote === undefined
    ? context.active()
    : trace.setSpanContext(ROOT_CONTEXT, remote);
  const span = tracer.startSpan(`${service}/${method}`, {
    kind: SpanKind.SERVER,
    attributes: { "rpc.system": "ferry", "rpc.service": service, "rpc.method": method },
  }, parent);
  return started(span, parent);
}

/** Starts the span of one request on a tapped connection (message type as `rpc.method`). */
export function startRequestSpan(
  tracer: Tracer,
  side: "client" | "server",
  type: string,
  peer: string,
  transport: string,
  from?: { readonly startTime: number; readonly remoteParent: SpanContext | undefined },
): FerrySpan {
  // A server span is made when its reply goes out (`from`): by then a Ferry peer's trace context
  // for it (which follows the request on the wire) has arrived, and becomes its parent.
  const parent = from?.remoteParent === undefined
    ? context.active()
    : trace.setSpanContext(ROOT_CONTEXT, from.remoteParent);
  const span = tracer.startSpan(`ferry/${type}`, {
    ...(from === undefined ? {} : { startTime: from.startTime }),
    kind: side === "client" ? SpanKind.CLIENT : SpanKind.SERVER,
    attributes: {
      "rpc.system": "ferry",
      "rpc.method": type,
      "network.transport": transport,
      [side === "client" ? "server.address" : "client.address"]: peer,
    },
  }, parent);
  return started(span, parent);
}
