/**
 * Wraps a connected `Deno.Conn` (TCP or TLS) into Ferry's `Socket` contract.
 *
 * - Reading: one loop, one `conn.read` at a time, gated by attach/pause. Each read fills a fresh
 *   buffer that is handed to the sink (it owns it); reads that fill the buffer grow the next one
 *   (up to 1 MiB), and small reads are copied out so a retained chunk never pins a large buffer.
 * - Writing: an ordered queue drained by one pump; small queued chunks are coalesced (up to
 *   64 KiB) so many small frames cost one `conn.write`. `bufferedAmount` counts bytes not yet
 *   accepted by the OS; `write` returns false above the high-water mark and `drain` follows.
 * - `close()`: flush the queue, `closeWrite()` (FIN), keep reading until the peer's end, then
 *   close; a peer that never ends is cut off after `closeTimeoutMs` with a `TimeoutError`.
 *   `close(error)` drops the queue and closes at once. Deno offers no SO_LINGER, so the peer sees
 *   a reset only if unread bytes were pending here; otherwise it sees the end of the stream.
 * - `closed` settles (after `sink.close`) only once the read loop and the pump have stopped, so
 *   no Deno op is left running.
 *
 * @module
 */

import { ConnectionClosedError, InvalidArgumentError, TimeoutError } from "../../src/errors.ts";
import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../../src/socket.ts";
import { type DenoApi, type DenoConn, denoErrorCode, isClosedResourceError } from "./deno-api.ts";
import { formatHostPort } from "../tcp-options.ts";

export interface DenoSocketOptions {
  /** `tcp` or `tls`. */
  readonly transport: string;
  /** Buffered outbound bytes above which `write` returns false. */
  readonly highWaterMark: number;
  /** After a graceful `close()`, give up on the peer's end after this long (0 = never). */
  readonly closeTimeoutMs: number;
}

const INITIAL_READ_SIZE = 64 * 1024;
const MAX_READ_SIZE = 1024 * 1024;
const COALESCE_LIMIT = 64 * 1024;

type State = "open" | "ending" | "closed";

class DenoSocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  readonly #deno: DenoApi;
  readonly #conn: DenoConn;
  readonly #options: DenoSocketOptions;
  #sink: SocketSink | undefined;
  #state: State = "open";
  #paused = false;
  #wake: (() => void) | undefined;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #needDrain = false;
  #pump: Promise<void> | undefined;
  #reading: Promise<void>;
  #peerEnded = false;
  #writeShut = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #reason: { error: unknown } | undefined;
  #finishing = false;
  #finished = false;
  #resolveClosed!: (closed: SocketClosed) => void;

  constructor(deno: DenoApi, conn: DenoConn, options: DenoSocketOptions) {
    this.#deno = deno;
    this.#conn = conn;
    this.#options = options;
    this.info = {
      transport: options.transport,
      remoteAddress: formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port),
      localAddress: formatHostPort(conn.localAddr.hostname, conn.localAddr.port),
    };
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#reading = this.#readLoop();
  }

  get bufferedAmount(): number {
    return this.#state === "closed" ? 0 : this.#buffered;
  }

  attach(sink: SocketSink): void {
    if (this.#sink !== undefined) {
      throw new InvalidArgumentError(
        `attach on ${this.info.transport} socket ${this.info.remoteAddress}: already attached`,
      );
    }
    if (sink === null || typeof sink !== "object") {
      throw new InvalidArgumentError(
        `attach on ${this.info.transport} socket: expected a SocketSink, received ${typeof sink}`,
      );
    }
    this.#sink = sink;
    if (this.#finished) {
      const { error } = this.#reason!;
      queueMicrotask(() => sink.close(error));
      return;
    }
    if (this.#finishing) return; // #finish tells the sink once everything has stopped
    this.#wakeReader();
    this.#maybeDrain();
  }

  write(chunk: Uint8Array): boolean {
    if (!(chunk instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        `write on ${this.info.transport} socket ${this.info.remoteAddress}: expected a Uint8Array, ` +
          `received ${chunk === null ? "null" : typeof chunk}`,
      );
    }
    if (this.#state !== "open" || this.#peerEnded) return false;
    if (chunk.byteLength > 0) {
      this.#queue.push(chunk);
      this.#buffered += chunk.byteLength;
      this.#pump ??= this.#drainQueue();
    }
    if (this.#buffered <= this.#options.highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeReader();
  }

  close(error?: unknown): void {
    if (error !== undefined) {
      this.#abort(error);
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "ending";
    this.#needDrain = false;
    this.resume(); // keep reading: the peer's end completes the close
    const timeoutMs = this.#options.closeTimeoutMs;
    if (timeoutMs > 0) {
      this.#closeTimer = setTimeout(() => {
        this.#closeTimer = undefined;
        this.#abort(
          new TimeoutError(
            `graceful close of ${this.info.transport} connection to ${this.info.remoteAddress} ` +
              `did not finish within ${timeoutMs} ms (peer did not end its side)`,
            timeoutMs,
          ),
        );
      }, timeoutMs);
      this.#deno.unrefTimer(this.#closeTimer);
    }
    if (this.#pump === undefined) this.#afterFlush();
  }

  /** A method, not a field test, so TypeScript does not narrow `#state` across an `await`. */
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #readLoop(): Promise<void> {
    let size = INITIAL_READ_SIZE;
    let buffer = new Uint8Array(size);
    while (this.#state !== "closed") {
      const sink = this.#sink;
      if (sink === undefined || this.#paused) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch (error) {
        this.#ioFailed(error, "read");
        return;
      }
      if (this.#isClosed()) return;
      if (n === null) {
        this.#peerEnded = true;
        if (this.#state === "open") this.#state = "ending";
        if (this.#pump === undefined) this.#afterFlush();
        return;
      }
      if (n === 0) continue;
      let chunk: Uint8Array;
      if (n * 4 < size) {
        chunk = buffer.slice(0, n); // small read: copy out and reuse the buffer
      } else {
        chunk = n === size ? buffer : buffer.subarray(0, n);
        if (n === size && size < MAX_READ_SIZE) size *= 2;
        buffer = new Uint8Array(size);
      }
      this.#callSink(() => sink.data(chunk));
    }
  }

  /** Writes the queue in order until it is empty; one pump at a time. */
  async #drainQueue(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#state !== "closed") {
        const bytes = this.#takeBatch();
        for (let offset = 0; offset < bytes.byteLength;) {
          const n = await this.#conn.write(offset === 0 ? bytes : bytes.subarray(offset));
          if (this.#isClosed()) return;
          offset += n;
          this.#buffered -= n;
          this.#maybeDrain();
        }
      }
    } catch (error) {
      this.#ioFailed(error, "write");
      return;
    } finally {
      this.#pump = undefined;
    }
    if (this.#state === "ending") this.#afterFlush();
  }

  /** The next chunk to write: the head of the queue, or several small ones joined. */
  #takeBatch(): Uint8Array {
    const queue = this.#queue;
    const first = queue[0]!;
    let count = 1;
    let total = first.byteLength;
    while (count < queue.length && total + queue[count]!.byteLength <= COALESCE_LIMIT) {
      total += queue[count]!.byteLength;
      count++;
    }
    if (count === 1) {
      queue.shift();
      return first;
    }
    const joined = new Uint8Array(total);
    let at = 0;
    for (const chunk of queue.splice(0, count)) {
      joined.set(chunk, at);
      at += chunk.byteLength;
    }
    return joined;
  }

  #maybeDrain(): void {
    if (!this.#needDrain || this.#state !== "open" || this.#sink === undefined) return;
    if (this.#buffered > this.#options.highWaterMark) return;
    this.#needDrain = false;
    const sink = this.#sink;
    this.#callSink(() => sink.drain());
  }

  /** Everything queued is written: finish a close, or shut our side down and await the peer's. */
  #afterFlush(): void {
    if (this.#state !== "ending") return;
    if (this.#peerEnded) {
      this.#release({ error: undefined });
      return;
    }
    if (this.#writeShut) return;
    this.#writeShut = true;
    this.#conn.closeWrite().catch((error) => this.#ioFailed(error, "shut down"));
  }

  #ioFailed(error: unknown, operation: string): void {
    if (this.#state === "closed" && isClosedResourceError(this.#deno, error)) return;
    const code = denoErrorCode(error);
    this.#abort(
      new ConnectionClosedError(
        `${this.info.transport} connection ${this.info.localAddress} ⇄ ${this.info.remoteAddress}` +
          ` failed to ${operation}${code ? ` (${code})` : ""}: ${
            (error as Error)?.message ?? error
          }`,
        { cause: error },
      ),
    );
  }

  #callSink(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#abort(error);
    }
  }

  #abort(error: unknown): void {
    this.#release({ error });
  }

  /** Ends the socket with `reason` (first reason wins): close the conn, stop loops, then report. */
  #release(reason: { error: unknown }): void {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#state = "closed";
    this.#reason = reason;
    this.#queue = [];
    this.#buffered = 0;
    this.#needDrain = false;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#wakeReader();
    void this.#finish();
  }

  async #finish(): Promise<void> {
    await Promise.allSettled([this.#reading, this.#pump]);
    const reason = this.#reason!;
    this.#finished = true;
    const sink = this.#sink;
    try {
      sink?.close(reason.error);
    } finally {
      this.#resolveClosed(reason);
    }
  }
}

/** Wraps a connected Deno connection into the `Socket` contract. */
export function wrapDenoConn(deno: DenoApi, conn: DenoConn, options: DenoSocketOptions): Socket {
  return new DenoSocket(deno, conn, options);
}
