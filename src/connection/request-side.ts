/**
 * What a connection hands the peer's requests to, and the hook that sees messages first.
 *
 * @module
 */

import type { Int64, Message, RequestMessage } from "../protocol/messages.ts";
import type { InboundBody } from "./inbound-body.ts";

/** What a connection does with the requests its peer sends (Spark's `TransportRequestHandler`). */
export interface RequestSide {
  /** A request from the peer. Returns where an UploadStream's raw body goes. */
  handle(message: RequestMessage): InboundBody | undefined;
  /**
   * Optional: an RpcRequest given as its fields (no message object), exactly as `handle` would
   * take `{ type: RpcRequest, requestId, body }`.
   */
  rpcRequest?(requestId: Int64, body: Uint8Array): void;
  /** The connection closed (`error` undefined for a graceful close). Called once. */
  terminate(error: unknown): void;
  /** Requests of the peer being served (replies not yet produced); the idle deadline waits. */
  readonly serving: number;
}

/**
 * Makes a connection's {@linkcode RequestSide} when the first request needs it, from the
 * connection's `interceptorOwner`: one function for every connection, none made for the idle ones.
 */
export type RequestSideMaker = (owner: unknown) => RequestSide;

/**
 * Sees an inbound message before dispatch; returns `true` to consume it (no dispatch). It is
 * called with the connection's `interceptorOwner` (the client it belongs to), so one interceptor
 * serves every connection without a closure per connection.
 */
export type MessageInterceptor = (message: Message, owner: never) => boolean;
