/**
 * Ferry's `Socket` contract over any promise-based byte stream: one `read()` and one `write()` at
 * a time, each returning a promise (Deno's `Conn`, a WinterTC socket's web streams). The Deno and
 * WinterTC adapters supply a small {@linkcode PromiseSocketIo}; everything else — the read loop,
 * the write pump, pause, the graceful close and its deadline, failure reporting — lives here once.
 * Web-platform only: no runtime imports.
 *
 * - Reading: one loop, one read in flight, gated by attach and pause. An io that reads into given
 *   memory (`readInto`) is handed the sink's `readBuffer()` when it offers one (the tail of a
 *   large frame: its body lands in place, no copy; with `readsPastFrameEnd`, the room after the
 *   frame too, so the read that ends a frame brings the next one's head instead of a read of its
 *   own), otherwise the unused rest of a 64 KiB slab carved front to back: a region is handed to
 *   the sink once and never reused, and only a used-up slab is replaced, so there is no
 *   allocation per read. A chunk whose read was in flight when `pause()` came is held until
 *   `resume()`.
 * - Writing: an ordered queue drained by one pump, one `io.write` in flight; small queued chunks
 *   are joined (up to 64 KiB) so many small frames cost one write. `bufferedAmount` counts bytes
 *   the io has not accepted; `write` returns false above the high-water mark and `drain` follows.
 * - `close()`: flush the queue, `io.endWrite()`, keep reading until the peer's end, then stop; a
 *   peer that never ends is cut off after `closeTimeoutMs` with a `TimeoutError`. `close(error)`
 *   drops the queue and stops at once.
 * - A failure (an I/O error, `close(error)`, the close deadline) reaches the sink at once (next
 *   microtask), so everything in flight fails together with the real cause, whatever state the
 *   read loop and the io's shutdown are in. `closed` settles (after `sink.close`) once the read
 *   loop, the pump and the io's shutdown have finished, or after `shutdownWaitMs` if they do not:
 *   some transports never settle a read or a close once broken (workerd's sockets, used from a
 *   later request than the one that opened them), and `closed` must settle all the same.
 *
 * @module
 */

import {
  ConnectionClosedError,
  describeError,
  TimeoutError,
  TransportError,
} from "../src/errors.ts";
import { unrefTimer } from "../src/deadline.ts";
import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../src/socket.ts";
import { checkAttach, checkWriteChunk } from "../src/socket-checks.ts";
import type { PromiseSocketIo } from "./promise-socket-io.ts";

export interface PromiseSocketOptions {
  /** Buffered outbound bytes above which `write` returns false. */
  readonly highWaterMark: number;
  /** After a graceful `close()`, give up on the peer's end after this long (0 = never). */
  readonly closeTimeoutMs: number;
  /** Keeps the close deadline from holding the process open (default: Node-style `unref()`). */
  readonly unrefTimer?: (timer: ReturnType<typeof setTimeout>) => void;
  /**
   * Once the socket has ended, how long `closed` waits for the read loop, the pump and the io's
   * shutdown to settle before it settles anyway (default {@linkcode defaultShutdownWaitMs}).
   */
  readonly shutdownWaitMs?: number;
}

/**
 * Default `shutdownWaitMs`: a healthy io settles its reads, writes and close within a few loop
 * turns of `shutdown`; two seconds is far beyond that, yet short enough that a caller awaiting
 * `closed` on a transport that never settles (workerd, across requests) is not held for long.
 */
export const defaultShutdownWaitMs = 2_000;

const SLAB_BYTES = 64 * 1024;
/** A slab with less room than this is replaced before the next own-memory read. */
const SLAB_MIN_REST = 16 * 1024;
const COALESCE_LIMIT = 64 * 1024;

type State = "open" | "ending" | "closed";

/** A `Socket` over a {@linkcode PromiseSocketIo}. See the module documentation. */
export class PromiseSocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  readonly #io: PromiseSocketIo;
  readonly #options: PromiseSocketOptions;
  #sink: SocketSink | undefined;
  #state: State = "open";
  #paused = false;
  #wake: (() => void) | undefined;
  #slab: Uint8Array = new Uint8Array(0);
  #slabUsed = 0;
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
  #sinkClosed = false;
  #resolveClosed!: (closed: SocketClosed) => void;

  constructor(io: PromiseSocketIo, info: SocketInfo, options: PromiseSocketOptions) {
    this.#io = io;
    this.#options = options;
    this.info = info;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#reading = this.#readLoop();
  }

  get bufferedAmount(): number {
    return this.#state === "closed" ? 0 : this.#buffered;
  }

  attach(sink: SocketSink): void {
    checkAttach(this.info, this.#sink, sink);
    this.#sink = sink;
    if (this.#finished || (this.#finishing && this.#reason!.error !== undefined)) {
      queueMicrotask(() => this.#closeSink());
      return;
    }
    if (this.#finishing) return; // #finish tells the sink once everything has stopped
    this.#wakeReader();
    this.#maybeDrain();
  }

  write(chunk: Uint8Array): boolean {
    checkWriteChunk(this.info, chunk);
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
      this.#release({ error });
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
        this.#release({
          error: new TimeoutError(
            `graceful close of ${this.info.transport} connection to ${this.info.remoteAddress} ` +
              `did not finish within ${timeoutMs} ms (peer did not end its side)`,
            timeoutMs,
          ),
        });
      }, timeoutMs);
      (this.#options.unrefTimer ?? unrefTimer)(this.#closeTimer);
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

  /** Resolves when attached and not paused, or when the socket closes; undefined if already. */
  #ready(): Promise<void> | undefined {
    if (this.#isClosed() || (this.#sink !== undefined && !this.#paused)) return undefined;
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** Where the next read goes: the sink's frame tail, else the free rest of the slab. */
  #readTarget(sink: SocketSink): Uint8Array {
    const direct = sink.readBuffer?.(this.#io.readsPastFrameEnd === true);
    if (direct !== undefined && direct.byteLength > 0) return direct;
    if (this.#slab.byteLength - this.#slabUsed < SLAB_MIN_REST) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#slabUsed = 0;
    }
    return this.#slab.subarray(this.#slabUsed);
  }

  async #readLoop(): Promise<void> {
    const io = this.#io;
    while (!this.#isClosed()) {
      const gate = this.#ready();
      if (gate !== undefined) {
        await gate;
        continue;
      }
      let chunk: Uint8Array | null;
      try {
        if (io.readInto !== undefined) {
          const into = this.#readTarget(this.#sink!);
          const count = await io.readInto(into);
          chunk = count === null ? null : into.subarray(0, count);
        } else {
          chunk = await io.read!();
        }
      } catch (error) {
        this.#ioFailed(error, "read");
        return;
      }
      if (this.#isClosed()) return;
      if (chunk === null) {
        this.#peerEnded = true;
        if (this.#state === "open") this.#state = "ending";
        this.#needDrain = false;
        if (this.#pump === undefined) this.#afterFlush();
        return;
      }
      if (chunk.byteLength === 0) continue;
      if (chunk.buffer === this.#slab.buffer) this.#slabUsed += chunk.byteLength;
      // A read in flight when pause() came: hold its chunk until resume() (or the end).
      for (let held = this.#ready(); held !== undefined; held = this.#ready()) await held;
      if (this.#isClosed()) return;
      try {
        this.#sink!.data(chunk);
      } catch (error) {
        this.#release({ error });
      }
      // A read past a frame's end: let the frame's consumer (a microtask the sink queued) give its
      // buffer back before the sink picks memory for the next frame.
      if (io.readsPastFrameEnd === true) await undefined;
    }
  }

  /** Writes the queue in order until it is empty; one pump at a time. */
  async #drainQueue(): Promise<void> {
    const io = this.#io;
    try {
      while (this.#queue.length > 0 && !this.#isClosed()) {
        const bytes = this.#takeBatch();
        for (let offset = 0; offset < bytes.byteLength;) {
          const n = await io.write(offset === 0 ? bytes : bytes.subarray(offset));
          if (this.#isClosed()) return;
          offset += n;
          this.#buffered -= n;
          if (this.#needDrain) this.#maybeDrain();
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
    try {
      this.#sink.drain();
    } catch (error) {
      this.#release({ error });
    }
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
    this.#io.endWrite().catch((error) => this.#ioFailed(error, "end its side"));
  }

  #ioFailed(error: unknown, operation: string): void {
    if (this.#isClosed()) return; // our own shutdown settled the operation
    if (error instanceof TransportError) {
      this.#release({ error });
      return;
    }
    const code = this.#io.errorCode?.(error);
    const local = this.info.localAddress ? `${this.info.localAddress} ⇄ ` : "to ";
    this.#release({
      error: new ConnectionClosedError(
        `${this.info.transport} connection ${local}${this.info.remoteAddress} failed to ` +
          `${operation}${code ? ` (${code})` : ""}: ${describeError(error)}`,
        { cause: error },
      ),
    });
  }

  /** Ends the socket with `reason` (first reason wins): stop the io, then report. */
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
    const graceful = reason.error === undefined && this.#peerEnded;
    let settling: Promise<unknown>[];
    try {
      settling = this.#io.shutdown(reason.error, graceful, this.#writeShut);
    } catch {
      settling = []; // already closed
    }
    this.#wakeReader();
    // A failure fails what is in flight now: the read loop and the pump deliver nothing more
    // once the state is closed, so the sink may hear of it before they have stopped.
    if (reason.error !== undefined) queueMicrotask(() => this.#closeSink());
    void this.#finish(settling);
  }

  /** Tells the attached sink why the socket ended, once. */
  #closeSink(): void {
    const sink = this.#sink;
    if (sink === undefined || this.#sinkClosed) return;
    this.#sinkClosed = true;
    sink.close(this.#reason!.error);
  }

  async #finish(settling: Promise<unknown>[]): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.shutdownWaitMs ?? defaultShutdownWaitMs);
      (this.#options.unrefTimer ?? unrefTimer)(timer);
    });
    await Promise.race([Promise.allSettled([this.#reading, this.#pump, ...settling]), gaveUp]);
    clearTimeout(timer);
    const reason = this.#reason!;
    this.#finished = true;
    try {
      this.#closeSink();
    } finally {
      this.#resolveClosed(reason);
    }
  }
}
