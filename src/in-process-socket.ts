/**
 * Two connected sockets inside one process, implementing the `src/socket.ts` contract with no
 * I/O: the transport of `inProcessNetwork` (a gateway in front of a server of the same process,
 * `src/gateway/in-process-network.ts`) and of the tests' memory sockets
 * (`test/helpers/memory-socket.ts`), so both run the one implementation.
 *
 * - Chunks are delivered to the peer's sink in a microtask (never inside `write`), in order, one
 *   `data` call per written chunk. They are not copied: the writer gives up a chunk when it writes
 *   it (the contract forbids mutating it afterwards) and the receiver owns it. With
 *   `copyOnDelivery` each is a fresh copy taken at delivery, so a writer that mutates a chunk after
 *   `write` is caught (the tests' mode).
 * - `bufferedAmount` counts bytes written and not yet delivered; `write` returns false above the
 *   high-water mark and `drain` follows once delivery brings it back. Bytes pile up only while the
 *   receiver is paused or not attached.
 * - `close()` lets the peer read everything written, then both ends close; `close(error)` is a
 *   reset: undelivered bytes both ways are dropped, this end closes with `error` and the peer with
 *   a `ConnectionClosedError` ("connection reset by peer"). A sink that throws resets its socket
 *   with what it threw.
 *
 * Uses no timers: every step runs from a microtask.
 *
 * @module
 */

import { ConnectionClosedError } from "./errors.ts";
import type { Socket, SocketClosed, SocketInfo, SocketSink } from "./socket.ts";
import { checkAttach, checkWriteChunk } from "./socket-checks.ts";

/** How an in-process socket pair behaves. */
export interface InProcessSocketOptions {
  /** Undelivered bytes above which `write` returns false. */
  readonly highWaterMark: number;
  /** Deliver a copy of each chunk instead of the chunk itself (default false). */
  readonly copyOnDelivery?: boolean;
}

/** One end of a pair: its `SocketInfo` and the name errors give it. */
export interface InProcessEnd {
  readonly info: SocketInfo;
  readonly name: string;
}

const EMPTY = new Uint8Array(0);

type State = "open" | "ending" | "closed";

class InProcessSocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  peer!: InProcessSocket;

  readonly #highWaterMark: number;
  /** Names this end in errors. */
  readonly #name: string;
  /** Copy each chunk at delivery (tests: catches a writer that mutates what it wrote). */
  readonly #copy: boolean;
  /** Chunks the peer wrote that this end has not delivered yet; `#head` indexes the next one. */
  #inbound: Uint8Array[] = [];
  #head = 0;
  #inboundBytes = 0;
  /** The peer ended gracefully; close once `#inbound` is delivered. */
  #endReceived = false;
  #sink: SocketSink | undefined;
  #paused = false;
  #flushScheduled = false;
  #state: State = "open";
  #needDrain = false;
  #closeReason: { error: unknown } | undefined;
  #finished = false;
  #resolveClosed!: (closed: SocketClosed) => void;

  constructor(info: SocketInfo, name: string, options: InProcessSocketOptions) {
    this.info = info;
    this.#name = name;
    this.#highWaterMark = options.highWaterMark;
    this.#copy = options.copyOnDelivery ?? false;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get bufferedAmount(): number {
    return this.#state === "closed" ? 0 : this.peer.#inboundBytes;
  }

  attach(sink: SocketSink): void {
    checkAttach(this.info, this.#sink, sink);
    this.#sink = sink;
    this.#scheduleFlush();
    // A peer that wrote before we attached may be waiting for a drain.
    this.peer.#scheduleFlush();
  }

  write(chunk: Uint8Array): boolean {
    checkWriteChunk(this.info, chunk);
    if (this.#state !== "open") return false;
    if (chunk.byteLength > 0) this.peer.#enqueue(chunk);
    const writable = this.peer.#inboundBytes <= this.#highWaterMark;
    if (!writable) this.#needDrain = true;
    return writable;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#scheduleFlush();
  }

  close(error?: unknown): void {
    if (error !== undefined) {
      this.#reset(error);
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "ending";
    this.#needDrain = false;
    this.#paused = false;
    this.#scheduleFlush();
    this.peer.#receiveEnd();
  }

  #enqueue(chunk: Uint8Array): void {
    this.#inbound.push(chunk);
    this.#inboundBytes += chunk.byteLength;
    this.#scheduleFlush();
  }

  #receiveEnd(): void {
    if (this.#state === "closed") return;
    this.#endReceived = true;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /** Delivers what is deliverable, then the peer's end, then drains the peer. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closeReason !== undefined) {
      this.#finish();
      return;
    }
    const sink = this.#sink;
    if (sink === undefined) return;
    while (!this.#paused && this.#head < this.#inbound.length && this.#state !== "closed") {
      const chunk = this.#inbound[this.#head]!;
      this.#inbound[this.#head++] = EMPTY;
      this.#inboundBytes -= chunk.byteLength;
      if (this.#head === this.#inbound.length) {
        this.#inbound = [];
        this.#head = 0;
      }
      try {
        sink.data(this.#copy ? chunk.slice() : chunk);
      } catch (error) {
        this.#reset(error); // a sink that throws has lost the stream: reset, as adapters do
      }
    }
    if (this.#state === "closed") return;
    this.peer.#maybeDrain();
    this.#maybeDrain();
    if (this.#endReceived && !this.#paused && this.#head === this.#inbound.length) {
      // The peer ended and everything it wrote is delivered: close entirely (no half-open).
      if (this.#state === "open") {
        this.#state = "ending";
        this.peer.#receiveEnd();
      }
      this.#state = "closed";
      this.#closeReason = { error: undefined };
      this.#finish();
    }
  }

  #maybeDrain(): void {
    if (!this.#needDrain || this.#state !== "open" || this.#sink === undefined) return;
    if (this.peer.#inboundBytes > this.#highWaterMark) return;
    this.#needDrain = false;
    try {
      this.#sink.drain();
    } catch (error) {
      this.#reset(error);
    }
  }

  #reset(error: unknown): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeReason = { error };
    this.#dropInbound();
    this.#scheduleFlush();
    const peer = this.peer;
    if (peer.#state === "closed") return;
    peer.#state = "closed";
    peer.#closeReason = {
      error: new ConnectionClosedError(`${peer.#name}: connection reset by peer ${this.#name}`, {
        cause: error,
      }),
    };
    peer.#dropInbound();
    peer.#scheduleFlush();
  }

  #dropInbound(): void {
    this.#inbound = [];
    this.#head = 0;
    this.#inboundBytes = 0;
    this.#endReceived = false;
    this.#needDrain = false;
  }

  /** Tells the sink (once attached) and settles `closed`, in that order, exactly once. */
  #finish(): void {
    const reason = this.#closeReason!;
    if (this.#finished) return;
    if (this.#sink === undefined) {
      // Settle now; the sink hears about it when it attaches (attach schedules a flush).
      this.#resolveClosed(reason);
      return;
    }
    this.#finished = true;
    try {
      this.#sink.close(reason.error);
    } finally {
      this.#resolveClosed(reason);
    }
  }
}

/** Two connected in-process sockets, `a` and `b`. */
export function inProcessSocketPair(
  a: InProcessEnd,
  b: InProcessEnd,
  options: InProcessSocketOptions,
): [Socket, Socket] {
  const left = new InProcessSocket(a.info, a.name, options);
  const right = new InProcessSocket(b.info, b.name, options);
  left.peer = right;
  right.peer = left;
  return [left, right];
}
