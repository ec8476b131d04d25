/**
 * Every limit and deadline Ferry applies by default, in one place. Each can be overridden where the
 * object that applies it is created (decoder, client, server, pool, gateway); the README documents
 * them. Defaults aim at what a production service can live with.
 *
 * @module
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Ferry's default limits and deadlines. Each is a default: pass another value where the object
 * that applies it is created (the option of the same name); the README's `## Limits` table lists
 * them.
 *
 * @example
 * ```ts
 * import { defaultLimits, TransportClient } from "ferry-transport";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * console.log(defaultLimits.maxFrameLength); // 67108864 (64 MiB)
 * const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: 7337 }), {
 *   maxReplyFrameLength: 2 * defaultLimits.maxReplyFrameLength, // Spark chunks up to 512 MiB
 * });
 * await client.close();
 * ```
 */
export const defaultLimits = {
  /** Largest frame accepted by the decoder (frame length, header included). */
  maxFrameLength: 64 * MiB,
  /**
   * Largest ChunkFetchSuccess or RpcResponse frame a client accepts (frame length, header
   * included). Above `maxFrameLength` because Spark sends chunks up to
   * `spark.network.maxRemoteBlockSizeFetchToMem` (200 MiB by default) as one in-frame reply; at
   * most 2 GiB − 1, Spark's own frame ceiling. A reply over it fails only its own request with a
   * `LimitError` once its body has been skipped (read and discarded, never buffered); the
   * connection keeps serving. Requests stay under `maxFrameLength` (over it: a failure reply).
   */
  maxReplyFrameLength: 256 * MiB,
  /**
   * Bytes of partially received frames (each charged at its full size before its buffer is
   * allocated) held at once by all connections of a `TransportServer`, or by one client (clients
   * given the same `InboundFrameBudget` share it). Full: the connection that needs room stops
   * being read until there is some (backpressure). Default: four 64 MiB request frames or one
   * 256 MiB reply at once, what a 1 GiB server lives with; it must be at least the largest frame
   * accepted for that frame to fit (a larger one fails like a frame over its limit).
   */
  maxInboundFrameBytes: 256 * MiB,
  /**
   * A connection in the middle of a frame or of an announced stream/upload body that receives no
   * byte of it for this long is reset with a `TimeoutError` (0 = never), releasing what the
   * frame holds. Time with reading paused by this side's consumer does not count; time waiting
   * for `maxInboundFrameBytes` room does. Without it an announced 2^53−1-byte body that never
   * comes holds its connection forever (it counts as traffic in flight for the idle deadline).
   */
  noProgressTimeoutMs: 30_000,
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
   * Connections one server (`TransportServer`, over all its listeners) or one WebSocket listener
   * holds at once; one more is refused at once (TCP/TLS: closed unread; WebSocket: HTTP 503
   * before the upgrade). Each costs a descriptor and its buffers: far above what a 2-core server
   * serves usefully, below where descriptors run out on a host tuned for servers (set it under
   * the process's descriptor limit, `ulimit -n`, where that is lower).
   */
  maxConnections: 10_000,
  /**
   * Connections from one remote address (IP, any port) at once, per server or WebSocket listener.
   * Generous because many users can share one address (a NAT, a proxy, a Spark cluster's egress);
   * one address still takes at most a tenth of `maxConnections`.
   */
  maxConnectionsPerAddress: 1_000,
  /**
   * Deadline for a WebSocket upgrade request's headers on a listener (direct and gateway alike):
   * a client dripping them (slowloris) is cut off. Node checks it every half deadline, so a
   * half-sent request ends 10–15 s after it began.
   */
  upgradeHeadersTimeoutMs: 10_000,
  /**
   * Gateway sessions at once. Each holds a browser socket and a backend connection (two
   * descriptors); idle sessions close after `gatewayIdleTimeoutMs`.
   */
  gatewayMaxSessions: 4_096,
  /**
   * Gateway sessions from one address at once: room for 64 tabs behind one NAT, while filling the
   * gateway takes 64 addresses (1 024 / 64 let 16 addresses hold every session).
   */
  gatewayMaxSessionsPerAddress: 64,
  /**
   * Requests one gateway session keeps at its backend at once; further ones wait (undecoded, the
   * browser paused). Replies in flight are what a session pins when its page stops reading: 16
   * replies of 1 MiB chunks stay within 64 MiB (64 of them let one page grow the gateway by
   * ~100 MiB), and 16 MiB in flight still fills a 1 Gbit/s link at 100 ms round trip.
   */
  gatewayMaxInFlightRequests: 16,
  /**
   * A gateway session whose browser sent no request for this long, with nothing in flight or
   * queued for it, is closed (4408); WebSocket and Ferry pings do not count (0 = never).
   */
  gatewayIdleTimeoutMs: 300_000,
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
   * While connections wait for reply memory (`maxReplyBytes` is full for them), a connection that
   * holds reply memory and whose peer has not taken a byte for this long (its writes blocked above
   * the high-water mark) is reset with a `LimitError` naming this limit. Without it, eight peers
   * that never read held the whole budget until `slowConsumerTimeoutMs` (60 s) reset them. A peer
   * that reads even 1 MiB a second unblocks the writer far more often than every 3 s; stuck
   * connections give their memory back within seconds. Only under pressure: a slow reader on a
   * quiet server keeps `slowConsumerTimeoutMs`. 0: never.
   */
  replyPressureTimeoutMs: 3_000,
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
   * anything is decoded. The router declares it to its connections (`RpcHandler.maxRequestBytes`),
   * so a bigger request is skipped as it arrives (never buffered) and refused with an RpcFailure
   * naming this limit; behind a fallback without a limit of its own, it is received and gets an
   * `ERR_RPC_LIMIT` failure reply. Well below the frame limit: a typed call carries parameters,
   * not bulk data (use chunks, streams or uploads).
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
  /**
   * Spark SASL encryption (qop auth-conf): plaintext bytes per wrapped block sent. Spark's
   * `spark.network.sasl.maxEncryptedBlockSize` default, so blocks look like a Spark peer's.
   */
  saslBlockSize: 64 * 1024,
  /**
   * Spark SASL encryption: longest wrapped block accepted from the peer, checked on its length
   * prefix before any of it is buffered. 16× what a Spark peer sends by default (64 KiB of
   * plaintext + 30 bytes), leaving room for peers configured with larger blocks; a longer block
   * closes the connection with a `LimitError`.
   */
  maxSaslBlockLength: 1 * MiB,
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
