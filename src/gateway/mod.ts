/**
 * The gateway: browsers reach TCP transport servers (Ferry or plain Spark) through a WebSocket,
 * with server-side targets, an Origin allowlist, token authentication, caps, backpressure both
 * ways, heartbeats and close codes that say why. Runners: `startNodeGateway` in
 * `adapters/node/gateway.ts`, `startDenoGateway` in `adapters/deno/gateway.ts`.
 *
 * @module
 */

export { Gateway, type GatewayStats } from "./gateway.ts";
export {
  defaultGatewayOptions,
  type GatewayBackendOptions,
  type GatewayEvent,
  type GatewayOptions,
  type GatewayTarget,
} from "./gateway-options.ts";
export {
  GatewayCloseCode,
  GatewayClosedError,
  type GatewayRefusalReason,
  gatewayRefusalReasons,
} from "./close-codes.ts";
export {
  authenticateToGateway,
  bearerTokenAuthenticator,
  type GatewayAuthenticator,
  gatewayTokenBootstrap,
} from "./gateway-token.ts";
