/**
 * THE contract every runtime adapter implements: an ordered, reliable, bidirectional byte stream.
 *
 * Everything above this file (protocol engine, client, server, pool, gateway) sees only
 * {@linkcode Socket}, {@linkcode Connect} and {@linkcode Listen}. Adapters in `adapters/<runtime>/`
 * translate Node `net`/`tls`, Deno's `connect`/`listen`, WebSockets and WinterTC sockets onto it.
 *
 * ## Reading
 * Bytes are pushed to the {@linkcode SocketSink} passed to {@linkcode Socket.attach}, one callback
 * per received chunk, with no promise per chunk. Nothing is delivered before `attach` is called
 * (adapters hold received bytes until then). A chunk handed to `sink.data` belongs to the receiver:
 * the adapter never reuses or mutates it afterwards, so the receiver may keep views into it.
 * `pause()` asks the adapter to stop delivering (best effort: a chunk already read may still
 * arrive); `resume()` undoes it. A paused socket stops reading from the OS or peer, so the peer's
 * writes eventually block: this is how backpressure reaches the remote sender.
 *
 * ## Writing
 * `write(chunk)` queues bytes in order and returns whether the caller may keep writing: `false`
 * means the adapter's buffered bytes are above its high-water mark; the caller should stop and
 * wait for `sink.drain()`. Writing while `false` is allowed and still ordered (it only buffers
 * more). After `write`, the caller must not mutate `chunk`. Writing to a closed socket is a no-op
 * that returns `false` (the `closed` promise already says why).
 *
 * ## Closing and failure semantics
 * - `close()` is idempotent. Without an argument it flushes queued writes, then ends the stream
 *   gracefully; `close(error)` aborts at once (reset), discarding queued writes.
 * - A graceful close resumes reading (so the peer's end, which completes it, is seen); data still
 *   arriving is delivered until `sink.close`. Adapters cut off a peer that never ends after a
 *   close timeout (`closed` then carries a `TimeoutError`). `close(error)` while a graceful close
 *   is still in progress aborts it; once `closed` has settled every `close` is a no-op.
 * - A reset reaches the peer as an error where the runtime can send one (TCP RST, WebSocket close
 *   code); Deno's TCP API cannot, so there the peer sees the end of the stream.
 * - If `sink.data` or `sink.drain` throws, the adapter closes the socket with what was thrown.
 * - `closed` settles exactly once, never rejects, and carries why the socket ended:
 *   `{ error: undefined }` for a graceful end from either side, `{ error }` for a reset, an I/O
 *   failure or `close(error)`.
 * - When the peer ends its side, the socket closes entirely (Ferry does not use half-open TCP):
 *   `sink.close` is called, then `closed` settles.
 * - After `sink.close(...)` no further `data` or `drain` callbacks happen.
 * - Bytes received before the end are always delivered to `sink.data` before `sink.close`.
 * - What happens to requests in flight is decided above this layer: the protocol engine fails every
 *   outstanding request with a `ConnectionClosedError` whose `cause` is `closed.error` the moment
 *   `sink.close` is called. Nothing in flight survives its connection.
 *
 * @module
 */

/** Where a socket's ends are. Addresses are informational (logs, stats, auth decisions). */
export interface SocketInfo {
  /** `tcp`, `tls`, `ws`, `wss`, `memory`, ... */
  readonly transport: string;
  /** Peer address, e.g. `127.0.0.1:7337` or a URL for WebSockets. */
  readonly remoteAddress: string;
  /** Local address where known. */
  readonly localAddress?: string;
}

/** Receives a socket's events. Implemented by the protocol engine. */
export interface SocketSink {
  /** A chunk of received bytes; ownership passes to the sink. Never empty. */
  data(chunk: Uint8Array): void;
  /**
   * Optional, bring-your-own-buffer reads: where the adapter may put the next received bytes.
   * Adapters that can read into given memory (Node `onread`, Deno `conn.read(buffer)`) call it
   * before each read; given a view, they read at most `view.byteLength` bytes into it and pass the
   * filled prefix to `data` (a view of the same memory). `undefined`: use the adapter's own buffer.
   * Never called from inside `data`.
   *
   * `pastEnd`: the adapter can take bytes past the end of the frame being assembled, passing the
   * filled prefix to `data` as usual; the view may then also cover spare room after the frame, so
   * one read finishes a frame and brings the next one's head. Without it (Node's `onread`, which
   * reads the bytes after a frame into a small probe of its own) the view ends with the frame.
   */
  readBuffer?(pastEnd?: boolean): Uint8Array | undefined;
  /** Buffered writes fell below the high-water mark after a `write` returned `false`. */
  drain(): void;
  /** The socket ended. `error` is undefined for a graceful end. Called once, last. */
  close(error: unknown): void;
}

/** Why a socket ended; see the module doc. */
export interface SocketClosed {
  /** Undefined for a graceful end by either side; otherwise the reason. */
  readonly error: unknown;
}

/** An ordered, reliable byte stream. See the module documentation for the full semantics. */
export interface Socket {
  readonly info: SocketInfo;
  /** Start delivering events to `sink`. Must be called exactly once. */
  attach(sink: SocketSink): void;
  /** Queue bytes; `false` = above the high-water mark, wait for `sink.drain()`. */
  write(chunk: Uint8Array): boolean;
  /**
   * Optional: `write(chunk)` for memory the caller wants back. `giveBack` runs exactly once, never
   * inside this call, when the adapter holds and reads `chunk` no more: the OS (or the peer) has
   * taken a copy of its bytes, or they were dropped because the socket closed. Only then may the
   * caller reuse the memory (read the next chunk of a file into it). Adapters that hand the chunk
   * itself on (the in-process pair delivers it to the peer, which may keep it) do not offer this.
   */
  writeLent?(chunk: Uint8Array, giveBack: () => void): boolean;
  /**
   * Optional: `write` of each of `chunks` in order, handed to the OS together where the adapter
   * can (one `writev`: a reply's header and its body leave in one syscall and one segment train,
   * not a lone header segment first); returns what `write` of the last would. Each chunk stays a
   * chunk of its own (a WebSocket message each). Absent: the caller writes them one by one.
   */
  writeAll?(chunks: readonly Uint8Array[]): boolean;
  /** Bytes queued in the adapter and not yet handed to the OS/peer. */
  readonly bufferedAmount: number;
  /** Stop delivering received data (backpressure towards the peer). */
  pause(): void;
  /** Resume delivering received data. */
  resume(): void;
  /** Graceful close (flush, then end) without argument; abort with `error`. Idempotent. */
  close(error?: unknown): void;
  /** Settles once when the socket has ended; never rejects. */
  readonly closed: Promise<SocketClosed>;
  /**
   * Optional: `size` bytes of fresh memory (its own buffer, shared with nothing) that the caller
   * overwrites completely before it reads or hands out any of it, allocated without zero-filling
   * where the runtime can (Node: `Buffer.allocUnsafeSlow`). Used for frames assembled from received
   * bytes, where zero-filling a large buffer costs as much as receiving it. Absent: the caller uses
   * `new Uint8Array(size)`.
   */
  allocateUninitialized?(size: number): Uint8Array;
}

/** Deadline and cancellation for opening a connection. */
export interface ConnectOptions {
  /** Abort the attempt; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Give up after this many milliseconds with a `TimeoutError` (adapter default otherwise). */
  readonly timeoutMs?: number;
}

/**
 * Opens one connection to a fixed peer. Adapters build these (`tcpConnect({ host, port })`); the
 * client and the pool receive them by injection. Rejects with `ConnectError`, `TimeoutError` or
 * the signal's reason; never leaves a socket open after rejecting.
 */
export type Connect = (options?: ConnectOptions) => Promise<Socket>;

/** A bound listener. Closing it stops accepting; sockets already accepted stay open. */
export interface SocketListener {
  /** Where it listens: host and the actual port (useful with port 0), and a URL. */
  readonly address: { readonly host: string; readonly port: number; readonly url: string };
  /** Stop accepting and release the port. Idempotent. */
  close(): Promise<void>;
}

/** An HTTP request asking to become a WebSocket, as WebSocket listeners see it. */
export interface UpgradeRequest {
  /** Request target, e.g. `/gateway/shuffle?x=1`. */
  readonly url: string;
  /** The `Origin` header, if any (browsers always send it). */
  readonly origin: string | undefined;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** `host:port` of the client. */
  readonly remoteAddress: string;
}

/** What a listener knows about how a socket was accepted (optional, additive). */
export interface AcceptContext {
  /** For WebSocket listeners: the HTTP upgrade request the socket came from. */
  readonly upgrade?: UpgradeRequest;
}

/**
 * Binds a listener that hands every accepted socket to `onSocket`. Adapters build these
 * (`tcpListen({ host, port })`); `TransportServer.listen` receives them by injection. WebSocket
 * listeners also pass the upgrade request as `context.upgrade`.
 */
export type Listen = (
  onSocket: (socket: Socket, context?: AcceptContext) => void,
) => Promise<SocketListener>;
