/**
 * Wraps a WinterTC-style socket (`{ readable, writable, opened, closed, close }`, the shape of
 * Cloudflare's `connect()` from `cloudflare:sockets`) into Ferry's `Socket` contract. Web streams
 * only: no runtime imports, so it runs wherever `ReadableStream`/`WritableStream` exist.
 *
 * - Reading: one loop over `readable.getReader()`, one `read()` at a time, gated by attach and
 *   pause; each chunk goes straight to `sink.data` (no promise per chunk for the consumer). A
 *   paused socket stops calling `read()`, so the stream's queue fills and the runtime stops reading
 *   from the network: backpressure reaches the peer. A chunk whose read was already in flight when
 *   `pause()` came is held until `resume()`. Small chunks that are views into a much larger buffer
 *   are copied out, so a retained chunk never pins the runtime's read buffer.
 * - Writing: an ordered queue drained by one pump into `writable.getWriter()`, one `write()` in
 *   flight; small queued chunks are coalesced (up to 64 KiB) so many small frames cost one stream
 *   write. `bufferedAmount` counts bytes whose write has not completed; `write` returns false above
 *   the high-water mark and `drain` follows once it is back at or below.
 * - `close()`: flush the queue, `writer.close()` (the peer sees our end), keep reading until the
 *   peer's end, then `socket.close()`; a peer that never ends is cut off after `closeTimeoutMs`
 *   with a `TimeoutError`. `close(error)` drops the queue, aborts the writer, cancels the reader
 *   and closes the socket. WinterTC sockets have no reset: the peer sees the end of the stream.
 * - `closed` settles (after `sink.close`) once the read loop, the pump and `socket.close()` have
 *   finished, so nothing is left running.
 *
 * @module
 */

import {
  ConnectionClosedError,
  describeError,
  InvalidArgumentError,
  ProtocolError,
  TimeoutError,
} from "../../src/errors.ts";
import { unrefTimer } from "../../src/deadline.ts";
import { defaultLimits } from "../../src/limits.ts";
import { defaultCloseTimeoutMs } from "../tcp-options.ts";
import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../../src/socket.ts";
import type { WinterTcSocketLike, WinterTcSocketOptions } from "./wintertc-api.ts";

const COALESCE_LIMIT = 64 * 1024;

type State = "open" | "ending" | "closed";

const noop = () => {};

class WinterTcSocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  readonly #socket: WinterTcSocketLike;
  readonly #reader: ReadableStreamDefaultReader<unknown>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #highWaterMark: number;
  readonly #closeTimeoutMs: number;
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

  constructor(socket: WinterTcSocketLike, options: WinterTcSocketOptions) {
    this.#socket = socket;
    this.#highWaterMark = options.highWaterMark ?? defaultLimits.writeHighWaterMark;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? defaultCloseTimeoutMs;
    this.info = {
      transport: options.transport ?? "tcp",
      remoteAddress: options.remoteAddress ?? "unknown",
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    };
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    // The runtime's own `closed` rejects on errors; the read loop reports those. Observe it so
    // a rejection is never unhandled.
    Promise.resolve(socket.closed).catch(noop);
    this.#reader = socket.readable.getReader();
    this.#writer = socket.writable.getWriter();
    this.#writer.closed.catch(noop);
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
    if (this.#buffered <= this.#highWaterMark) return true;
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
      this.#release({ error });
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "ending";
    this.#needDrain = false;
    this.resume(); // keep reading: the peer's end completes the close
    const timeoutMs = this.#closeTimeoutMs;
    if (timeoutMs > 0) {
      this.#closeTimer = setTimeout(() => {
        this.#closeTimer = undefined;
        this.#release({
          error: new TimeoutError(
            `graceful close of ${this.info.transport} connection to ${this.info.remoteAddress} ` +
              `did not finish within ${timeoutMs} ms (peer did not end its side)`,
            timeoutMs,
          ),
        });
      }, timeoutMs);
      unrefTimer(this.#closeTimer);
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

  /** Resolves when attached and not paused, or when the socket closes. */
  #ready(): Promise<void> | undefined {
    if (this.#isClosed() || (this.#sink !== undefined && !this.#paused)) return undefined;
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  async #readLoop(): Promise<void> {
    const reader = this.#reader;
    while (!this.#isClosed()) {
      const gate = this.#ready();
      if (gate !== undefined) {
        await gate;
        continue;
      }
      let result: ReadableStreamReadResult<unknown>;
      try {
        result = await reader.read();
      } catch (error) {
        this.#ioFailed(error, "read");
        return;
      }
      if (this.#isClosed()) return;
      if (result.done) {
        this.#peerEnded = true;
        if (this.#state === "open") this.#state = "ending";
        this.#needDrain = false;
        if (this.#pump === undefined) this.#afterFlush();
        return;
      }
      const chunk = toOwnedBytes(result.value);
      if (chunk === undefined) {
        this.#release({
          error: new ProtocolError(
            `${this.info.transport} connection to ${this.info.remoteAddress}: the readable ` +
              `stream yielded ${describeValue(result.value)}, expected bytes`,
          ),
        });
        return;
      }
      if (chunk.byteLength === 0) continue;
      // A read in flight when pause() came: hold its chunk until resume() (or the end).
      for (let gate = this.#ready(); gate !== undefined; gate = this.#ready()) await gate;
      if (this.#isClosed()) return;
      const sink = this.#sink!;
      this.#callSink(() => sink.data(chunk));
    }
  }

  /** Writes the queue in order until it is empty; one pump at a time. */
  async #drainQueue(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#isClosed()) {
        const bytes = this.#takeBatch();
        await this.#writer.write(bytes);
        if (this.#isClosed()) return;
        this.#buffered -= bytes.byteLength;
        this.#maybeDrain();
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
    if (this.#buffered > this.#highWaterMark) return;
    this.#needDrain = false;
    const sink = this.#sink;
    this.#callSink(() => sink.drain());
  }

  /** Everything queued is written: finish a close, or end our side and await the peer's. */
  #afterFlush(): void {
    if (this.#state !== "ending") return;
    if (this.#peerEnded) {
      this.#release({ error: undefined });
      return;
    }
    if (this.#writeShut) return;
    this.#writeShut = true;
    this.#writer.close().catch((error) => this.#ioFailed(error, "end its side"));
  }

  #ioFailed(error: unknown, operation: string): void {
    if (this.#isClosed()) return;
    const local = this.info.localAddress ? `${this.info.localAddress} ⇄ ` : "to ";
    this.#release({
      error: new ConnectionClosedError(
        `${this.info.transport} connection ${local}${this.info.remoteAddress} failed to ` +
          `${operation}: ${describeError(error)}`,
        { cause: error },
      ),
    });
  }

  #callSink(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#release({ error });
    }
  }

  /** Ends the socket with `reason` (first reason wins): stop the streams, then report. */
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
    const settling: Promise<unknown>[] = [];
    if (reason.error !== undefined || !this.#peerEnded) {
      // Settles a read in flight (done) and a write in flight (rejected), discarding the rest.
      settling.push(this.#reader.cancel(reason.error), this.#writer.abort(reason.error));
    } else if (!this.#writeShut) {
      settling.push(this.#writer.close()); // the peer ended first: everything is flushed
    }
    try {
      settling.push(Promise.resolve(this.#socket.close()));
    } catch {
      // already closed
    }
    this.#wakeReader();
    void this.#finish(settling);
  }

  async #finish(settling: Promise<unknown>[]): Promise<void> {
    await Promise.allSettled([this.#reading, this.#pump, ...settling]);
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

/** The chunk as bytes the receiver owns; undefined when it is not binary. */
function toOwnedBytes(value: unknown): Uint8Array | undefined {
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) bytes = value;
  else if (value instanceof ArrayBuffer) return new Uint8Array(value);
  else if (ArrayBuffer.isView(value)) {
    bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else return undefined;
  // A small view into a large buffer (a runtime's read buffer): copy it out so keeping it
  // does not keep the whole buffer alive.
  return bytes.byteLength * 4 < bytes.buffer.byteLength ? bytes.slice() : bytes;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `a string of ${value.length} characters`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "no class"})`;
  return `a ${typeof value}`;
}

function checkCount(value: unknown, name: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 0)) {
    throw new InvalidArgumentError(
      `wrapWinterTcSocket: ${name} must be a non-negative integer, received ${String(value)}`,
    );
  }
}

/**
 * Wraps an OPEN WinterTC socket (await its `opened` first, or use `winterTcConnect`). Takes the
 * locks on `readable` and `writable`; the returned `Socket` owns the socket from then on.
 */
export function wrapWinterTcSocket(
  socket: WinterTcSocketLike,
  options: WinterTcSocketOptions = {},
): Socket {
  if (
    socket === null || typeof socket !== "object" ||
    typeof socket.readable?.getReader !== "function" ||
    typeof socket.writable?.getWriter !== "function" || typeof socket.close !== "function"
  ) {
    throw new InvalidArgumentError(
      `wrapWinterTcSocket: expected a socket with readable, writable and close(), received ` +
        describeValue(socket),
    );
  }
  checkCount(options.highWaterMark, "highWaterMark");
  checkCount(options.closeTimeoutMs, "closeTimeoutMs");
  return new WinterTcSocket(socket, options);
}
