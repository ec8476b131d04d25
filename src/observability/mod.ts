/**
 * Ferry's observability: OpenTelemetry metrics through `@opentelemetry/api` (a no-op until the
 * application registers an SDK) and named event channels a runtime adapter connects (Node:
 * `diagnostics_channel`). See docs/observability.md for every metric, attribute and channel.
 *
 * @module
 */

export {
  type ConnectionEvent,
  type ConnectionRole,
  type FerryChannelName,
  ferryChannelNames,
  type FerryEventChannel,
  type FerryEventSink,
  installFerryEventSink,
  type RequestEvent,
} from "./event-sink.ts";
export { type FerryChannelMessages, FerryEventListeners } from "./event-listeners.ts";
export { connectionEventOf } from "./observe.ts";
export { FERRY_METER_NAME } from "./instruments.ts";
export { FERRY_TRACER_NAME } from "./tracing.ts";
