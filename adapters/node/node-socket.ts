/**
 * Wraps a connected Node `net.Socket` (or `tls.TLSSocket`) into Ferry's `Socket` contract.
 *
 * - `data` events go straight to `sink.data` as plain `Uint8Array` views of Node's per-read buffer
 *   (Node never reuses it), so there is no promise and no copy per chunk. Client sockets read
 *   through `onread` instead ({@linkcode DirectReads}).
 * - `writeLent` is `socket.write(chunk, callback)`: Node calls back once libuv is done with the
 *   chunk (written to the kernel, failed or dropped with the socket), so its memory can be reused.
 * - `write` is `socket.write` and returns its boolean; the writes of one turn are corked until a
 *   microtask, so a frame's header and its passed-through body leave in one `writev` (one syscall,
 *   one segment train, one read on the other side). Node's `drain` becomes `sink.drain`. The
 *   socket's `writableHighWaterMark` is the high-water mark (set where the socket is created).
 *   TLS sockets are not corked: Node's TLS copies a `writev` whole before encrypting it, so large
 *   chunks go alone and only small ones are gathered (`tls-writes.ts`).
 * - `close()` ends gracefully (Node flushes, sends FIN, and closes once the peer's FIN arrives,
 *   since half-open is off); if the peer has not finished within `closeTimeoutMs` the socket is
 *   destroyed and `closed` carries a `TimeoutError`. `close(error)` resets (`resetAndDestroy`
 *   sends a TCP RST where the handle is plain TCP; TLS sockets are destroyed without one).
 * - `allocateUninitialized` is `Buffer.allocUnsafeSlow` (unpooled, not zero-filled) seen as a plain
 *   `Uint8Array`: the decoder assembles large frames in it without paying for zero-filling. The
 *   first large one raises glibc's trim threshold first (malloc-thresholds.ts).
 * - I/O errors (ECONNRESET, EPIPE, ...) end the socket with a `ConnectionClosedError` whose
 *   `cause` is Node's error and whose message names the address and the OS code.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Socket as NetSocket } from "node:net";
import { ConnectionClosedError } from "../../src/errors.ts";
import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../../src/socket.ts";
import { startCloseTimer } from "../../src/deadline.ts";
import { defaultCloseTimeoutMs, formatHostPort } from "../tcp-options.ts";
import { checkAttach, checkWriteChunk } from "../../src/socket-checks.ts";
import { LARGE_FRAME_BYTES, raiseMallocThresholds } from "./malloc-thresholds.ts";
import { TlsWrites } from "./tls-writes.ts";
import type { DirectReads } from "./direct-reads.ts";

/** Options for {@linkcode wrapNodeSocket}. */
export interface NodeSocketOptions {
  /** `tcp` or `tls` (shown in `info.transport` and error messages). */
  readonly transport: string;
  /** After a graceful `close()`, destroy the socket if it has not closed within this (ms). */
  readonly closeTimeoutMs?: number;
  /** The socket was created with `onread: directReads.options` (client sockets). */
  readonly directReads?: DirectReads;
  /**
   * The socket is a `tls.TLSSocket`: large chunks are written alone and small ones of a turn
   * gathered ({@linkcode TlsWrites}) instead of corked into a `writev`, which Node's TLS copies.
   */
  readonly tls?: boolean;
}

/** The OS error code of a Node error (`ECONNRESET`), if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

type State = "open" | "ending" | "closed";

/** The last local address formatted, and its parts. */
let lastLocal = { host: "", port: -1, text: "" };

/**
 * `host:port` of the socket's local end. A server's accepted sockets share their listener's
 * address, so the text of the last one is reused rather than held once per connection.
 */
function localAddressOf(socket: NetSocket): string {
  const host = socket.localAddress;
  const port = socket.localPort;
  if (host === lastLocal.host && port === lastLocal.port) return lastLocal.text;
  const text = formatHostPort(host, port);
  if (host !== undefined && port !== undefined) lastLocal = { host, port, text };
  return text;
}

/** The part of Node's socket handle that reads the peer's address. */
interface PeerNameHandle {
  getpeername?(out: { address?: string; port?: number }): number;
}

/**
 * `host:port` of the socket's peer. Read from the handle where it can be: `socket.remoteAddress`
 * keeps Node's answer on the socket (an object and its strings, and a property that the socket's
 * shape has no room for), which a server holding thousands of connections paid for each.
 */
function remoteAddressOf(socket: NetSocket): string {
  const handle = (socket as unknown as { _handle?: PeerNameHandle | null })._handle;
  if (typeof handle?.getpeername === "function") {
    const out: { address?: string; port?: number } = {};
    if (handle.getpeername(out) === 0 && out.address !== undefined) {
      return formatHostPort(out.address, out.port);
    }
  }
  return formatHostPort(socket.remoteAddress, socket.remotePort);
}

/**
 * A Node socket's {@linkcode SocketInfo}: its local address is read when first asked for (Node
 * keeps the answer on the socket, and most connections are never asked).
 */
class NodeSocketInfo implements SocketInfo {
  readonly transport: string;
  readonly remoteAddress: string;
  /** The socket until the local address is read, then its text. */
  #local: NetSocket | string;

  constructor(socket: NetSocket, transport: string) {
    this.transport = transport;
    this.remoteAddress = remoteAddressOf(socket);
    this.#local = socket;
  }

  get localAddress(): string {
    const local = this.#local;
    return typeof local === "string" ? local : (this.#local = localAddressOf(local));
  }
}

/** The property of a Node socket that holds its wrapper, for the shared listeners. */
const owner = Symbol("NodeSocket");
type OwnedSocket = NetSocket & { [owner]: NodeSocket };

/** A socket's `closed` and what settles it, made when first asked for (one field, not two). */
class ClosedPromise {
  readonly promise: Promise<SocketClosed>;
  resolve!: (closed: SocketClosed) => void;

  constructor(ended: SocketClosed | undefined) {
    this.promise = ended !== undefined
      ? Promise.resolve(ended)
      : new Promise((resolve) => (this.resolve = resolve));
  }
}

class NodeSocket implements Socket {
  readonly info: SocketInfo;
  readonly #socket: NetSocket;
  readonly #closeTimeoutMs: number;
  readonly #directReads: DirectReads | undefined;
  readonly #tlsWrites: TlsWrites | undefined;
  #sink: SocketSink | undefined;
  #state: State = "open";
  #paused = false;
  #reason: { error: unknown } | undefined;
  #ended: SocketClosed | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** `closed`, made when first asked for (a server's idle sockets are never asked). */
  #closed: ClosedPromise | undefined;
  #corked = false;

  constructor(socket: NetSocket, options: NodeSocketOptions) {
    this.#socket = socket;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? defaultCloseTimeoutMs;
    this.#directReads = options.directReads;
    this.#tlsWrites = options.tls === true ? new TlsWrites(socket) : undefined;
    this.info = new NodeSocketInfo(socket, options.transport);
    // One set of listeners shared by every socket (each finds its wrapper through `owner`): four
    // closures and their context per connection were a sixth of an idle connection's heap.
    (socket as OwnedSocket)[owner] = this;
    socket.on("error", NodeSocket.#onError);
    socket.on("close", NodeSocket.#onClose);
    socket.on("drain", NodeSocket.#onDrain);
    if (socket.closed) {
      this.#reason ??= {
        error: new ConnectionClosedError(
          `${this.info.transport} connection from ${this.info.remoteAddress} closed before it was wrapped`,
        ),
      };
      queueMicrotask(() => this.#finish());
    }
  }

  static #onError(this: OwnedSocket, error: Error): void {
    const wrapper = this[owner];
    wrapper.#reason ??= {
      error: new ConnectionClosedError(
        `${wrapper.info.transport} connection ${wrapper.info.localAddress} ⇄ ${wrapper.info.remoteAddress}` +
          ` failed${errorCode(error) ? ` (${errorCode(error)})` : ""}: ${error.message}`,
        { cause: error },
      ),
    };
  }

  static #onClose(this: OwnedSocket): void {
    this[owner].#finish();
  }

  static #onDrain(this: OwnedSocket): void {
    const wrapper = this[owner];
    if (wrapper.#state !== "open" || wrapper.#sink === undefined) return;
    try {
      wrapper.#sink.drain();
    } catch (error) {
      wrapper.close(error);
    }
  }

  static #onData(this: OwnedSocket, chunk: Buffer): void {
    const wrapper = this[owner];
    try {
      wrapper.#sink!.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (error) {
      wrapper.close(error); // a sink that throws has lost the stream's framing: reset
    }
  }

  get closed(): Promise<SocketClosed> {
    return (this.#closed ??= new ClosedPromise(this.#ended)).promise;
  }

  /** Writes of one turn (a frame's header and its passed-through body) leave in one writev. */
  #corkThisTurn(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    // A callback made per turn, not kept: an idle socket holds no closure.
    queueMicrotask(() => this.uncork());
  }

  /** Ends this turn's cork (see `write`). */
  uncork(): void {
    this.#corked = false;
    this.#socket.uncork();
  }

  get bufferedAmount(): number {
    if (this.#state === "closed") return 0;
    return this.#socket.writableLength + (this.#tlsWrites?.pendingBytes ?? 0);
  }

  /** Node's unpooled, non-zero-filled allocation, as a plain `Uint8Array` of its own buffer. */
  allocateUninitialized(size: number): Uint8Array {
    // Collected bodies' memory is then reused rather than trimmed and faulted in again.
    if (size >= LARGE_FRAME_BYTES) raiseMallocThresholds();
    const buffer = Buffer.allocUnsafeSlow(size);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
  }

  attach(sink: SocketSink): void {
    checkAttach(this.info, this.#sink, sink);
    this.#sink = sink;
    if (this.#ended !== undefined) {
      const ended = this.#ended.error;
      queueMicrotask(() => sink.close(ended));
      return;
    }
    if (this.#directReads !== undefined) {
      this.#directReads.attach(sink, (error) => this.close(error));
    } else {
      this.#socket.on("data", NodeSocket.#onData);
    }
    if (!this.#paused) this.#socket.resume();
  }

  write(chunk: Uint8Array): boolean {
    checkWriteChunk(this.info, chunk);
    const socket = this.#socket;
    if (this.#state !== "open" || socket.destroyed || socket.writableEnded) return false;
    if (chunk.byteLength === 0) return this.bufferedAmount < socket.writableHighWaterMark;
    if (this.#tlsWrites !== undefined) return this.#tlsWrites.write(chunk);
    this.#corkThisTurn();
    return socket.write(chunk);
  }

  writeLent(chunk: Uint8Array, giveBack: () => void): boolean {
    checkWriteChunk(this.info, chunk);
    const socket = this.#socket;
    if (
      this.#state !== "open" || socket.destroyed || socket.writableEnded || chunk.byteLength === 0
    ) {
      queueMicrotask(giveBack);
      return this.write(chunk);
    }
    // TLS: small chunks gathered this turn (a frame's header) go first, and no cork (a writev
    // would be copied whole before encryption).
    if (this.#tlsWrites !== undefined) this.#tlsWrites.flush();
    else this.#corkThisTurn();
    // Node runs the callback once libuv has finished the write that carried the chunk (the
    // kernel copied it) or dropped it (error, destroy): never while libuv may still read it.
    return socket.write(chunk, giveBack);
  }

  pause(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#paused = false;
    // Before attach there is no `data` listener: flowing now would drop bytes.
    if (this.#sink !== undefined && this.#state !== "closed") this.#socket.resume();
  }

  close(error?: unknown): void {
    const socket = this.#socket;
    if (error !== undefined) {
      if (this.#state === "closed") return;
      this.#state = "closed";
      this.#reason ??= { error };
      this.#clearCloseTimer();
      this.#tlsWrites?.discard();
      reset(socket);
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "ending";
    // Keep reading so the peer's end (which completes the close) is seen.
    this.resume();
    this.#tlsWrites?.flush();
    // Flush first, then end: until `end()` a reset can still abort with an RST (libuv refuses
    // to reset while a shutdown is pending), so `close(error)` never truncates silently.
    if (socket.writableLength === 0) socket.end();
    else socket.write(EMPTY, () => socket.end());
    if (this.#closeTimeoutMs > 0 && !socket.destroyed) {
      const why = "peer did not end its side";
      this.#closeTimer = startCloseTimer(this.info, this.#closeTimeoutMs, why, (error) => {
        this.#closeTimer = undefined;
        this.#reason ??= { error };
        this.#state = "closed";
        socket.destroy();
      });
    }
  }

  #clearCloseTimer(): void {
    if (this.#closeTimer === undefined) return;
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
  }

  #finish(): void {
    if (this.#ended !== undefined) return;
    this.#clearCloseTimer();
    this.#state = "closed";
    this.#ended = { error: this.#reason?.error };
    try {
      this.#sink?.close(this.#ended.error);
    } finally {
      this.#closed?.resolve(this.#ended);
    }
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Aborts a Node socket: a TCP RST where the handle is plain TCP (the peer sees a reset), otherwise
 * (TLS) a destroy, which the peer sees as the end of the stream: resetting the TCP handle under
 * Node's TLSWrap crashes the process, and Node offers no other way to set SO_LINGER.
 */
function reset(socket: NetSocket): void {
  if (socket.destroyed) return;
  // While a shutdown is pending libuv cannot reset (and Node would never emit 'close'); all bytes
  // are with the kernel by then, so a plain destroy loses nothing.
  if (!(socket.writableEnded && !socket.writableFinished)) {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // Not a plain TCP handle (TLS): destroy below.
    }
  }
  socket.destroy();
}

/** Wraps a connected Node socket into the `Socket` contract. Half-open must be off. */
export function wrapNodeSocket(socket: NetSocket, options: NodeSocketOptions): Socket {
  return new NodeSocket(socket, options);
}
