/**
 * What a server (or a client that serves its peer's requests) does with RPCs, one-way messages
 * and uploads — Spark's `RpcHandler`, with promises instead of callbacks.
 *
 * A thrown error or rejected promise becomes an RpcFailure carrying its message; the connection
 * and the server keep serving.
 *
 * @module
 */

import type { Peer } from "./peer.ts";

/** Handles the requests arriving on a connection. Every method is optional but `receive`. */
export interface RpcHandler {
  /** An RpcRequest. The resolved bytes are sent back as the RpcResponse. */
  receive(client: Peer, message: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** A OneWayMessage. Nothing is sent back; a throw is logged and counted, never sent. */
  receiveOneWay?(client: Peer, message: Uint8Array): void | Promise<void>;
  /**
   * An UploadStream: `meta` from the frame, then `body` with exactly the announced byte count
   * (backpressure reaches the uploader's socket). Resolve with the reply once the body is consumed.
   * Without this method uploads are refused with an RpcFailure.
   */
  receiveStream?(
    client: Peer,
    meta: Uint8Array,
    body: ReadableStream<Uint8Array>,
  ): Uint8Array | Promise<Uint8Array>;
  /**
   * Largest RpcRequest or OneWayMessage body this handler takes, when it has such a limit (a
   * `ServiceRouter`: its `maxServiceRequestBytes`). The connection then skips a larger request as
   * it arrives (its bytes are read and discarded, never buffered) and answers an RpcRequest with
   * an RpcFailure naming `maxRequestBytesName` (a one-way message is dropped and counted in
   * `stats().oversizedFrames`); the handler never sees it. Read once, when a connection opens.
   */
  readonly maxRequestBytes?: number | undefined;
  /** The name of that limit in the failure reply (default `"maxRequestBytes"`). */
  readonly maxRequestBytesName?: string | undefined;
  /** A connection opened. */
  channelActive?(client: Peer): void;
  /** A connection closed (`error` undefined for a graceful close). */
  channelInactive?(client: Peer, error: unknown): void;
}
