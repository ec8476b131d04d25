/**
 * How the gateway tells a browser why its WebSocket ended: one close code per cause, and the
 * typed error that carries it. A WebSocket `Socket` closed with an error that has a numeric
 * `closeCode` sends that code and the error's message as the close reason (see
 * `adapters/websocket-socket.ts`), so `event.code` in the page says what happened.
 *
 * | code | name | when | what the page should do |
 * |---|---|---|---|
 * | 1000 | normal | the browser or the gateway ended the session gracefully | nothing |
 * | 1001 | going away | the gateway is shutting down | reconnect later |
 * | 1002 | protocol error | the browser's bytes break Spark's framing | fix the client |
 * | 1008 | policy violation | a message type the gateway does not forward (UploadStream unless `allowUpload`, any reply type, a one-way message with Ferry's control prefix such as a cancel); a bad Origin on a socket accepted without `allowUpgrade` | fix the client |
 * | 1009 | too big | a frame above the gateway's `maxFrameLength` | send smaller frames |
 * | 1011 | internal error | the gateway failed unexpectedly | retry |
 * | 1013 | try again later | a connection cap (total, per IP, per target) is reached | back off, retry |
 * | 4401 | unauthorized | no credential, a wrong one, or a request before authentication | get a new token |
 * | 4404 | unknown target | the path names no configured target | fix the URL |
 * | 4408 | timeout | authentication did not complete within `authTimeoutMs`, or the session sent no request for `idleTimeoutMs` with nothing in flight (pings do not count) | reconnect when needed |
 * | 4429 | slow consumer | the page did not read its replies: buffered bytes above `maxBufferedBytes`, or not draining for `slowConsumerTimeoutMs` (also how a flood ends: requests beyond `maxInFlightRequests`, even packed into one WebSocket message, wait undecoded until replies are read) | read faster, fetch less at once |
 * | 4502 | bad gateway | the backend could not be reached, refused the session, closed, or stopped answering (heartbeat, Spark's `connectionTimeoutMs`) | retry later |
 *
 * A browser tab that vanished (no pong to the listener's pings) is simply cut off: nobody is left
 * to read a close code.
 *
 * Ferry control messages other than a ping get an RpcFailure (the session stays open); an Origin
 * refused by `allowUpgrade` gets HTTP 403 (no WebSocket, so the page sees 1006).
 *
 * Why 4502 and not the registered 1014 ("bad gateway"): Deno's server-side WebSocket does not
 * send 1014 (the peer sees code 0), so the gateway uses an application code, like HTTP's 502, in
 * every runtime. The other 1xxx codes above reach the peer intact from both server runtimes.
 *
 * @module
 */

import { TransportError, type TransportErrorCode } from "../errors.ts";

/**
 * Close codes the gateway sends; see the module table.
 *
 * @example
 * ```ts
 * import { GatewayCloseCode } from "ferry-transport/gateway";
 *
 * const socket = new WebSocket("wss://gateway.example.com/gateway/files");
 * socket.addEventListener("close", (event) => {
 *   if (event.code === GatewayCloseCode.Unauthorized) console.log("the token was refused");
 *   if (event.code === GatewayCloseCode.TryAgainLater) console.log("gateway full: retry later");
 * });
 * ```
 */
export const GatewayCloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  PolicyViolation: 1008,
  TooBig: 1009,
  InternalError: 1011,
  TryAgainLater: 1013,
  BadGateway: 4502,
  Unauthorized: 4401,
  UnknownTarget: 4404,
  Timeout: 4408,
  SlowConsumer: 4429,
} as const;

export type GatewayCloseCode = (typeof GatewayCloseCode)[keyof typeof GatewayCloseCode];

/** Why the gateway refused or ended a session; the keys of `GatewayStats.refusals`. */
export type GatewayRefusalReason =
  | "origin"
  | "path"
  | "unknown-target"
  | "connection-cap"
  | "ip-cap"
  | "target-cap"
  | "auth-failed"
  | "auth-required"
  | "auth-timeout"
  | "idle-timeout"
  | "frame-too-big"
  | "protocol-error"
  | "message-not-allowed"
  | "backend-unavailable"
  | "backend-closed"
  | "slow-consumer"
  | "shutting-down"
  | "internal-error";

/**
 * Every refusal reason, for stats tables.
 *
 * @example
 * ```ts
 * import { type GatewayEvent, gatewayRefusalReasons } from "ferry-transport/gateway";
 *
 * // Count refusals per reason, every reason present from the start (for a metrics exporter).
 * const refusals = new Map<string, number>(gatewayRefusalReasons.map((reason) => [reason, 0]));
 * const onEvent = (event: GatewayEvent) => {
 *   if (event.type === "refused" && event.reason !== undefined) {
 *     refusals.set(event.reason, (refusals.get(event.reason) ?? 0) + 1);
 *   }
 * };
 * console.log(onEvent, refusals.size);
 * ```
 */
export const gatewayRefusalReasons: readonly GatewayRefusalReason[] = [
  "origin",
  "path",
  "unknown-target",
  "connection-cap",
  "ip-cap",
  "target-cap",
  "auth-failed",
  "auth-required",
  "auth-timeout",
  "idle-timeout",
  "frame-too-big",
  "protocol-error",
  "message-not-allowed",
  "backend-unavailable",
  "backend-closed",
  "slow-consumer",
  "shutting-down",
  "internal-error",
];

const errorCodes: Partial<Record<GatewayRefusalReason, TransportErrorCode>> = {
  "auth-failed": "ERR_AUTH",
  "auth-required": "ERR_AUTH",
  "auth-timeout": "ERR_TIMEOUT",
  "idle-timeout": "ERR_TIMEOUT",
  "frame-too-big": "ERR_LIMIT",
  "connection-cap": "ERR_LIMIT",
  "ip-cap": "ERR_LIMIT",
  "target-cap": "ERR_LIMIT",
  "slow-consumer": "ERR_LIMIT",
  "protocol-error": "ERR_PROTOCOL",
  "message-not-allowed": "ERR_PROTOCOL",
  "backend-unavailable": "ERR_CONNECT",
  "backend-closed": "ERR_CONNECTION_CLOSED",
};

/**
 * The gateway ended a browser session: `closeCode` is the WebSocket close code sent (the socket
 * adapter reads it), `reason` the stable cause. The message is the close reason the page sees, so
 * it never contains a credential.
 *
 * @example
 * ```ts
 * import { GatewayCloseCode, GatewayClosedError } from "ferry-transport/gateway";
 *
 * const error = new GatewayClosedError(GatewayCloseCode.Timeout, "auth-timeout", "no token");
 * console.log(error.closeCode, error.reason); // 4408 "auth-timeout"
 * ```
 */
export class GatewayClosedError extends TransportError {
  readonly closeCode: GatewayCloseCode;
  readonly reason: GatewayRefusalReason;
  constructor(
    closeCode: GatewayCloseCode,
    reason: GatewayRefusalReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { code: errorCodes[reason] ?? "ERR_TRANSPORT", cause: options.cause });
    this.closeCode = closeCode;
    this.reason = reason;
  }
}
