/**
 * Every limit and deadline Ferry applies by default, in one place. Each can be overridden where the
 * object that applies it is created (decoder, client, server, pool, gateway); the README documents
 * them. Defaults aim at what a production service can live with.
 *
 * @module
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const defaultLimits = {
  /** Largest frame accepted by the decoder (frame length, header included). */
  maxFrameLength: 64 * MiB,
  /** Requests (RPC, chunk fetch, stream, upload) one client keeps in flight at once. */
  maxInFlightRequests: 65_536,
  /** Adapter write buffer above which `write()` returns false (backpressure). */
  writeHighWaterMark: 1 * MiB,
  /** Queued outbound bytes on one connection above which it is closed as a slow consumer. */
  writeHardCap: 256 * MiB,
  /** Chunks a server is transferring at once (all connections) before it sheds load. */
  maxChunksBeingTransferred: 10_000,
  /** Default deadline for connecting. */
  connectTimeoutMs: 30_000,
  /** Default deadline for a request (0 = none; Spark's clients rely on the connection timeout). */
  requestTimeoutMs: 0,
  /** Requests outstanding and nothing received for this long: close the connection as dead. */
  connectionTimeoutMs: 120_000,
  /** Deadline for an authentication handshake. */
  authTimeoutMs: 10_000,
  /**
   * A server connection must deliver its first complete frame within this long of being accepted
   * (Ferry has no wire handshake: the first frame is it). A peer that never speaks, or drips bytes
   * that never complete a frame, is reset. Clients default to 0 (none).
   */
  handshakeTimeoutMs: 10_000,
  /**
   * A server connection with no complete frame received and nothing in flight for this long is
   * closed gracefully (0 = never). Only complete frames count, so dripping bytes does not keep a
   * connection open. Clients default to 0: the pool evicts its own idle connections (60 s).
   */
  idleTimeoutMs: 300_000,
  /**
   * Outbound bytes above the write high-water mark without a drain for this long: the peer is not
   * reading, the connection is reset with a `LimitError` (0 = never; `writeHardCap` still applies).
   */
  slowConsumerTimeoutMs: 60_000,
  /**
   * Requests of the peer one connection serves at once: RPCs and uploads whose handler has not
   * settled, chunk fetches and streams being produced or written. A request beyond it is refused
   * at once with its failure reply (RpcFailure / ChunkFetchFailure / StreamFailure: "too many
   * requests in flight on this connection (N, limit M)"; an upload's body is read and discarded)
   * and the connection stays open. Refusal, not backpressure: a connection that stopped reading
   * would also stop seeing the control messages that free slots (Ferry cancels, heartbeats) and
   * the replies to requests this side sent, as HTTP/2 refuses streams beyond
   * MAX_CONCURRENT_STREAMS. Synchronous RPC replies and one-way messages never count. Far above
   * what one well-behaved client keeps outstanding; it bounds what one connection can make the
   * server hold (handler promises, open stream bodies).
   */
  maxConcurrentRequestsPerConnection: 4_096,
  /**
   * Streams one connection (or principal) may have registered in a `OneForOneStreamManager` and
   * not yet released; registering one more throws a `LimitError` (the RPC that registers it fails
   * with that message). Streams are released when read to the end, on release, or when their
   * connection closes.
   */
  maxStreamsPerConnection: 4_096,
  /**
   * Ferry cancel extension: a StreamResponse whose body is already being written when the peer
   * cancels it cannot be cut short (the peer's decoder expects every announced byte). With at
   * most this many bytes left, the rest is written as zeros (the source is released at once and
   * never read again) and the connection stays in sync; with more left, the connection is reset
   * with a `LimitError` (everything else in flight on it fails).
   */
  maxCancelPaddingBytes: 1 * MiB,
  /** Ferry ⇄ Ferry heartbeat (optional extension): ping after this long (0 = no heartbeat). */
  heartbeatIntervalMs: 30_000,
  /** Ferry ⇄ Ferry heartbeat: a ping not answered within this long closes the connection. */
  heartbeatTimeoutMs: 10_000,
  /**
   * File service: chunks one served file may have. Its chunk digests (32 bytes each) are one reply
   * of the `digests` method, so 1 Mi chunks make a 32 MiB reply, half of `maxFrameLength`; a file
   * with more (1 TiB at 1 MiB chunks, or a tiny `--chunk-size`) is not served, and the message
   * says to use a larger chunk size.
   */
  maxChunksPerFile: 1 << 20,
} as const;

export type Limits = typeof defaultLimits;
