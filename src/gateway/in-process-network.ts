/**
 * A `Listen` and a `Connect` wired to each other inside one process: for a gateway in front of a
 * transport server of the same process (`ferry serve`), whose backend connections would otherwise
 * be loopback TCP. Every byte of a chunk reply then crossed the kernel twice (the server's write,
 * the gateway's read) and was copied twice more in user space (into the read buffer, then into
 * the frame the decoder assembles); here the server's frames reach the gateway's decoder as the
 * very chunks the server wrote, and a chunk body passes through whole (the decoder takes a chunk
 * that is exactly a frame's body as the body itself).
 *
 * Only the transport changes: the gateway still leases a backend connection per session from its
 * pool, with its caps, budgets, bootstraps (the Ferry heartbeat) and backpressure, and the server
 * still decodes, limits and answers every frame as it would over TCP.
 *
 * Semantics of each socket pair, as `src/socket.ts` asks of any adapter:
 * - Chunks are delivered to the peer's sink in a microtask (never inside `write`), in order, one
 *   `data` call per written chunk, not copied: the writer gives up the chunk when it writes it
 *   (the contract forbids mutating it afterwards) and the receiver owns it. Frame writers never
 *   hand out a region twice (`frame-slab.ts`, `header-allocator.ts`), so a view can be kept.
 * - `bufferedAmount` counts bytes written and not yet delivered; `write` returns false above the
 *   high-water mark and `drain` follows once delivery brings it back. Bytes pile up only while the
 *   receiver is paused or not attached, so a paused gateway holds back the server as a full TCP
 *   window would, and the server's own reply limits then stop it.
 * - `close()` lets the peer read everything written, then both ends close; `close(error)` is a
 *   reset: undelivered bytes both ways are dropped and the peer closes with a
 *   `ConnectionClosedError`. A sink that throws resets its socket with what it threw.
 *
 * Uses no timers: every step runs from a microtask.
 *
 * @module
 */

import { ConnectError, ConnectionClosedError, TransportError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import type {
  Connect,
  ConnectOptions,
  Listen,
  Socket,
  SocketClosed,
  SocketInfo,
  SocketListener,
  SocketSink,
} from "../socket.ts";
import { checkAttach, checkWriteChunk } from "../socket-checks.ts";

type State = "open" | "ending" | "closed";

const EMPTY = new Uint8Array(0);

class InProcessSocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  peer!: InProcessSocket;

  readonly #highWaterMark: number;
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

  constructor(info: SocketInfo, highWaterMark: number) {
    this.info = info;
    this.#highWaterMark = highWaterMark;
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
        sink.data(chunk);
      } catch (error) {
        this.#reset(error); // a sink that throws has lost the stream: reset, as adapters do
      }
    }
    if (this.#state === "closed") return;
    this.peer.#maybeDrain();
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
      error: new ConnectionClosedError(
        `in-process connection ${peer.info.localAddress} → ${peer.info.remoteAddress}: ` +
          `reset by peer`,
        { cause: error },
      ),
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

/** A `Listen` for the server and the `Connect` that reaches it. */
export interface InProcessNetwork {
  /** Binds the network's one address; rejects while another listener is bound. */
  readonly listen: Listen;
  /** Connects to the bound listener; rejects with `ConnectError` when nothing listens. */
  readonly connect: Connect;
}

/**
 * An in-process network named `label` (in addresses and errors): `connect` reaches whatever
 * `listen` bound. `highWaterMark` is each socket's write high-water mark (default
 * `defaultLimits.writeHighWaterMark`, as over TCP).
 */
export function inProcessNetwork(
  label: string,
  highWaterMark: number = defaultLimits.writeHighWaterMark,
): InProcessNetwork {
  const url = `in-process://${label}`;
  let accept: ((socket: Socket) => void) | undefined;
  let connections = 0;

  const listen: Listen = (onSocket) => {
    if (accept !== undefined) {
      return Promise.reject(new TransportError(`listen on ${url} failed: already bound`));
    }
    const current = onSocket;
    accept = current;
    const listener: SocketListener = {
      address: { host: label, port: 0, url },
      close: () => {
        if (accept === current) accept = undefined;
        return Promise.resolve();
      },
    };
    return Promise.resolve(listener);
  };

  const connect: Connect = (options?: ConnectOptions) => {
    try {
      options?.signal?.throwIfAborted();
    } catch (reason) {
      return Promise.reject(reason);
    }
    const onSocket = accept;
    if (onSocket === undefined) {
      return Promise.reject(new ConnectError(`connect to ${url} failed: nothing listens there`));
    }
    const id = ++connections;
    const client = new InProcessSocket(
      { transport: "in-process", localAddress: `${label}#${id}`, remoteAddress: label },
      highWaterMark,
    );
    const server = new InProcessSocket(
      { transport: "in-process", localAddress: label, remoteAddress: `${label}#${id}` },
      highWaterMark,
    );
    client.peer = server;
    server.peer = client;
    try {
      onSocket(server);
    } catch (error) {
      server.close(error);
    }
    return Promise.resolve(client);
  };

  return { listen, connect };
}
