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
   * settled, chunk fetches and streams waiting for reply memory (as small records, no chunk bytes),
   * being produced or written. A request beyond it is refused
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
   * Server-wide reply memory: bytes of chunk and stream replies being read from their source or
   * waiting to be handed to a socket, over every connection. A source is read only after its bytes
   * are charged here (and to its connection's `replyWindowBytes`); fetches beyond it wait as small
   * records (no chunk bytes), served round-robin across connections. 64 MiB keeps a 2-core, 1 GiB
   * server alive under thousands of unread fetches while 8 busy connections still stream at full
   * speed (a 1 MiB chunk handed to a socket every few hundred microseconds frees its charge).
   */
  maxReplyBytes: 64 * MiB,
  /**
   * Reply bytes one connection may have charged at once (read from their source or queued for its
   * socket). A peer that never reads its socket holds at most this much; its other fetches wait as
   * records. 8 MiB keeps 8 chunks of 1 MiB ahead of the socket, enough to keep a fast peer busy.
   */
  replyWindowBytes: 8 * MiB,
  /**
   * Streams one connection (or principal) may have registered in a `OneForOneStreamManager` and
   * not yet released; registering one more throws a `LimitError` (the RPC that registers it fails
   * with that message). Streams are released when read to the end, on release, or when their
   * connection closes.
   */
  maxStreamsPerConnection: 4_096,
  /**
   * Streams a `OneForOneStreamManager` holds registered over all connections; registering one more
   * throws a `LimitError` naming this limit (a file-service `open` fails with that message and
   * opens nothing). A stream often holds a descriptor, so the default stays well below a common
   * soft descriptor limit of 1 024: streams run out before descriptors do, and the listeners,
   * connections and everything else keep the other half. `ferry serve` sets it to half of its
   * process's soft descriptor limit (less a small reserve).
   */
  maxStreams: 512,
  /**
   * Ferry cancel extension: a StreamResponse whose body is already being written when the peer
   * cancels it cannot be cut short (the peer's decoder expects every announced byte). With at
   * most this many bytes left, the rest is written as zeros (the source is released at once and
   * never read again) and the connection stays in sync; with more left, the connection is reset
   * with a `LimitError` (everything else in flight on it fails).
   */
  maxCancelPaddingBytes: 1 * MiB,
  /**
   * Largest typed-service request body a `ServiceRouter` decodes (prefix included), checked before
   * anything is decoded; a bigger one gets an `ERR_RPC_LIMIT` failure reply. Well below the frame
   * limit: a typed call carries parameters, not bulk data (use chunks, streams or uploads).
   */
  maxServiceRequestBytes: 8 * MiB,
  /**
   * MessagePack values one typed-service request or reply may hold (every array item, map key
   * and map value, containers included), checked by a scan of the headers before msgpackr builds
   * anything. Decoded objects cost tens of bytes each: this bounds what one message can make the
   * process allocate (~256 Ki empty maps ≈ 15 MiB) and how long it blocks the event loop.
   */
  maxServiceElements: 262_144,
  /** Nesting depth of arrays and maps in one typed-service message (msgpackr decodes recursively). */
  maxServiceDepth: 64,
  /** Largest string (UTF-8 bytes) in a typed-service message: strings are copied when decoded. */
  maxServiceStringBytes: 8 * MiB,
  /**
   * Largest binary value in a typed-service message. A bin decodes as a view of the received
   * frame (no copy), so by default it is bounded by the frame (and request) size only.
   */
  maxServiceBinaryBytes: 64 * MiB,
  /**
   * Handler failures the default reporter writes (one line each, no stack) per
   * `handlerErrorLogIntervalMs`; the rest of the interval's failures are counted and summarised in
   * one line ("… N more suppressed"). A peer can make a handler fail at will (one-way messages):
   * unbounded logging would turn each 100-byte message into a kilobyte of stack trace.
   */
  handlerErrorLogLines: 10,
  /** The interval of `handlerErrorLogLines`. */
  handlerErrorLogIntervalMs: 10_000,
  /** Ferry ⇄ Ferry heartbeat (optional extension): ping after this long (0 = no heartbeat). */
  heartbeatIntervalMs: 30_000,
  /** Ferry ⇄ Ferry heartbeat: a ping not answered within this long closes the connection. */
  heartbeatTimeoutMs: 10_000,
  /**
   * Requests one connection's observability tap remembers per side to time them (only while an
   * OpenTelemetry SDK or a channel subscriber listens). Replies match requests by id, so a peer
   * that never answers, or late replies that never come, would otherwise grow the map without end;
   * beyond this the oldest is ended as `ferry.untracked`. Default 4 096: above the default
   * in-flight and serving limits, so only abandoned requests are ever evicted.
   */
  maxObservedRequestsPerConnection: 4_096,
} as const;

export type Limits = typeof defaultLimits;
