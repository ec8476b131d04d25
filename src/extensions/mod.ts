/**
 * Ferry's optional extensions, the package's `ferry-transport/extensions` entry: messages that
 * ride inside ordinary Spark frames (Ferry control bodies, `src/protocol/ferry-control.ts`) and are
 * only ever sent to a peer known to be Ferry. None of them is known to the core (connection,
 * client, responder, server, pool): each plugs in through a generic mechanism the core offers.
 *
 * - Server side: inbound interceptors (`interceptor`, chained with `chainInterceptors`) —
 *   `ferryResponder` for all of them, or `ferryPingResponder`, `ferryCancelResponder`,
 *   `ferryTraceContextResponder` one by one.
 * - Ping: `ferryPing`, and the pool's `validate` option with `ferryPingValidator`.
 * - Heartbeat: `startFerryHeartbeat`, or a pool bootstrap `ferryHeartbeatBootstrap`.
 * - Cancel: the client's `onAbandoned` hook with `enableFerryCancel` / `ferryCancelBootstrap`,
 *   `sendFerryCancel` for one cancel; the responder's `cancelServing` on the server.
 * - Chunk trace context: `enableFerryTraceContext` / `ferryTraceContextBootstrap`.
 *
 * @module
 */

export { ferryResponder } from "./ferry-responder.ts";
export { ferryPing, ferryPingResponder } from "./ferry-ping.ts";
export { ferryPingValidator } from "./ferry-ping-validator.ts";
export {
  ferryHeartbeatBootstrap,
  type FerryHeartbeatOptions,
  startFerryHeartbeat,
  type StopHeartbeat,
} from "./ferry-heartbeat.ts";
export {
  type CancelTarget,
  type DisableFerryCancel,
  enableFerryCancel,
  ferryCancelBootstrap,
  ferryCancelResponder,
  sendFerryCancel,
} from "./ferry-cancel.ts";
export {
  enableFerryTraceContext,
  ferryTraceContextBootstrap,
  ferryTraceContextResponder,
} from "./ferry-trace-context.ts";
