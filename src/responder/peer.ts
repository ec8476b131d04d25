/**
 * `Peer`: what a request handler may do to the connection it serves — identify the peer, call it
 * back (every connection is bidirectional, as in Spark), and close it. Replies are not sent
 * through it: a handler returns (or throws) and the responder writes the reply on the connection.
 *
 * The responder (`RpcHandler`, `StreamManager`, the request handler) is typed against this
 * interface so that it depends on nothing above the connection layer. At run time the peer is the
 * connection's `TransportClient` (which implements `Peer`), so handlers written against
 * `TransportClient` keep working.
 *
 * A peer is also the identity of its connection: streams are owned by it, counts are kept per
 * peer, and an authenticated principal is looked up from it (`principalOf(peer)`).
 *
 * @module
 */

import type { ByteStream } from "../connection/inbound-body.ts";
import type { CallOptions } from "../deadline.ts";
import type { Int64, Message } from "../protocol/messages.ts";
import type { SocketClosed, SocketInfo } from "../socket.ts";

export interface Peer {
  /** The peer's address (`host:port`, a URL for WebSockets). */
  readonly remoteAddress: string;
  /** Transport and addresses of the underlying socket. */
  readonly info: SocketInfo;
  /** Whether the connection is open (the peer can be called back). */
  readonly isActive: boolean;
  /** Settles once the connection has ended, with why (`error` undefined: graceful). */
  readonly closed: Promise<SocketClosed>;
  /** Sends an RPC to the peer; resolves with its RpcResponse body. */
  sendRpc(body: Uint8Array, options?: CallOptions): Promise<Uint8Array>;
  /** Sends the peer a one-way message. */
  send(body: Uint8Array): void;
  /** Fetches one chunk of a stream the peer registered. */
  fetchChunk(streamId: Int64, chunkIndex: number, options?: CallOptions): Promise<Uint8Array>;
  /** Opens a stream the peer serves. */
  stream(streamId: string, options?: CallOptions): Promise<ByteStream>;
  /** Sends a raw protocol message (extensions: bootstraps, heartbeats, cancels). */
  sendMessage(message: Message): void;
  /** Closes the connection (with `error`: reset, `error` is the cause). */
  close(error?: unknown): Promise<void>;
}
