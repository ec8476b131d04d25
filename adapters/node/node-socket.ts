/**
 * Wraps a connected Node `net.Socket` (or `tls.TLSSocket`) into Ferry's `Socket` contract.
 *
 * - `data` events go straight to `sink.data` as plain `Uint8Array` views of Node's per-read buffer
 *   (Node never reuses it), so there is no promise and no copy per chunk. Client sockets read
 *   through `onread` instead ({@linkcode DirectReads}).
 * - `write` is `socket.write` and returns its boolean; the writes of one turn are corked until a
 *   microtask, so a frame's header and its passed-through body leave in one `writev` (one syscall,
 *   one segment train, one read on the other side). Node's `drain` becomes `sink.drain`. The
 *   socket's `writableHighWaterMark` is the high-water mark (set where the socket is created).
 * - `close()` ends gracefully (Node flushes, sends FIN, and closes once the peer's FIN arrives,
 *   since half-open is off); if the peer has not finished within `closeTimeoutMs` the socket is
 *   destroyed and `closed` carries a `TimeoutError`. `close(error)` resets (`resetAndDestroy`
 *   sends a TCP RST where the handle is plain TCP; TLS sockets are destroyed without one).
 * - `allocateUninitialized` is `Buffer.allocUnsafeSlow` (unpooled, not zero-filled) seen as a plain
 *   `Uint8Array`: the decoder assembles large frames in it without paying for zero-filling.
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

/** Options for {@linkcode wrapNodeSocket}. */
export interface NodeSocketOptions {
  /** `tcp` or `tls` (shown in `info.transport` and error messages). */
  readonly transport: string;
  /** After a graceful `close()`, destroy the socket if it has not closed within this (ms). */
  readonly closeTimeoutMs?: number;
  /** The socket was created with `onread: directReads.options` (client sockets). */
  readonly directReads?: DirectReads;
}

/** Bytes of the process-wide read landing buffer, and of each slab that keeps copies of reads. */
const SLAB_BYTES = 64 * 1024;

/**
 * Where reads land when the sink offers no buffer of its own: ONE buffer for every socket of the
 * process. libuv reads a socket into it and Node calls `onread.callback` synchronously before any
 * other read can happen, and the callback copies the bytes out before it returns, so no socket's
 * bytes are ever overwritten. A buffer per socket cost 64 KiB per idle connection.
 */
const landing = new Uint8Array(SLAB_BYTES);
/**
 * The read after one that filled the sink's own buffer (a large frame just ended) lands in only
 * this much of the landing buffer: enough for the next frame's length and fixed fields, so that if
 * that frame is large too, the sink offers its own buffer for the rest of it (read there directly),
 * and only these few bytes are copied — not a whole landing buffer of the next body, copied twice
 * (into the slab here, then into the frame). The probe takes the place of that landing read (as
 * many reads as before), and 128 KiB fewer bytes are copied per 1 MiB chunk.
 *
 * Only while the sink reuses its buffers (lent chunk bodies return to the connection's pool): with
 * fresh memory for every frame (owned bodies) the client's cost is page faults on that memory, and
 * they rose with the probe (median 22.6 k → 40 k per GiB; client CPU +12% though 12% less of it in
 * user space; alternating runs, docs/chunk-fetch-profile.md), most likely as glibc then trims the
 * freed bodies' heap more often. So a probe follows only a filled buffer whose memory a direct read
 * had filled before.
 */
const PROBE_BYTES = 256;
const probe = landing.subarray(0, PROBE_BYTES);
/** Memory direct reads have filled (weakly held: it is the sinks' to keep or drop). */
const filledBefore = new WeakSet<ArrayBufferLike>();
/** Whether direct reads filled `memory` before (and remembers that they now have). */
function reused(memory: ArrayBufferLike): boolean {
  if (filledBefore.has(memory)) return true;
  filledBefore.add(memory);
  return false;
}
/** Copies of reads, carved front to back (a region is handed out once, never reused). */
let kept = new Uint8Array(SLAB_BYTES);
let keptUsed = 0;

/** A copy of `bytes` the sink may keep (views of it outlive the read). */
function keep(bytes: Uint8Array): Uint8Array {
  const length = bytes.byteLength;
  // A read is at most the landing buffer's size, so it always fits a fresh slab.
  if (keptUsed + length > kept.byteLength) {
    kept = new Uint8Array(SLAB_BYTES);
    keptUsed = 0;
  }
  const copy = kept.subarray(keptUsed, keptUsed + length);
  copy.set(bytes);
  keptUsed += length;
  return copy;
}

/**
 * Node `onread` plumbing: reads land in the sink's `readBuffer()` when it offers one (the tail
 * of a large frame), otherwise in the process-wide landing buffer, whose bytes are copied into a
 * slab shared by all sockets before the sink sees them (right after a large frame in a reused
 * buffer, only `PROBE_BYTES`). So an idle socket holds no read buffer. Bytes read before `attach`
 * are held.
 */
export class DirectReads {
  #sink: SocketSink | undefined;
  #onSinkError: ((error: unknown) => void) | undefined;
  #held: Uint8Array[] = [];
  /** The last read filled the sink's buffer (reused memory): the sink's frame is complete. */
  #filledSinkBuffer = false;
  readonly options = {
    buffer: (): Uint8Array => this.#next(),
    callback: (bytes: number, buffer: Uint8Array): boolean => {
      const read = buffer.subarray(0, bytes);
      const landed = buffer.buffer === landing.buffer;
      this.#filledSinkBuffer = !landed && bytes === buffer.byteLength && reused(buffer.buffer);
      const chunk = landed ? keep(read) : read;
      if (this.#sink === undefined) {
        this.#held.push(chunk);
        return true;
      }
      try {
        this.#sink.data(chunk);
      } catch (error) {
        this.#onSinkError?.(error);
      }
      return true;
    },
  };

  attach(sink: SocketSink, onSinkError: (error: unknown) => void): void {
    this.#sink = sink;
    this.#onSinkError = onSinkError;
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) sink.data(chunk);
  }

  #next(): Uint8Array {
    const direct = this.#sink?.readBuffer?.();
    if (direct !== undefined && direct.byteLength > 0) return direct;
    return this.#filledSinkBuffer ? probe : landing;
  }
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

  /** Ends this turn's cork (see `write`). */
  uncork(): void {
    this.#corked = false;
    this.#socket.uncork();
  }

  get bufferedAmount(): number {
    return this.#state === "closed" ? 0 : this.#socket.writableLength;
  }

  /** Node's unpooled, non-zero-filled allocation, as a plain `Uint8Array` of its own buffer. */
  allocateUninitialized(size: number): Uint8Array {
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
    if (chunk.byteLength === 0) return socket.writableLength < socket.writableHighWaterMark;
    if (!this.#corked) {
      // Writes of one turn (a frame's header and its passed-through body) leave in one writev.
      this.#corked = true;
      socket.cork();
      // A callback made per turn, not kept: an idle socket holds no closure.
      queueMicrotask(() => this.uncork());
    }
    return socket.write(chunk);
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
      reset(socket);
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "ending";
    // Keep reading so the peer's end (which completes the close) is seen.
    this.resume();
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
