/**
 * An in-memory, deterministic implementation of the `src/socket.ts` contract, for fast tests.
 *
 * `memorySocketPair()` returns two connected ends. Bytes written on one end are delivered to the
 * other end's sink in a microtask (never inside the `write` call), in order, one `data` call per
 * written chunk, each a fresh copy taken at delivery time (so a writer that mutates a chunk after
 * `write` is caught, and a receiver owns what it gets). Every callback runs from a microtask,
 * never re-entrantly inside a caller's `write`/`pause`/`resume`/`close`/`attach`.
 *
 * Like a real socket:
 * - `bufferedAmount` counts bytes written and not yet delivered to the peer's sink; `write` returns
 *   `false` once it is above `highWaterMark`, and `drain` follows when it is back at or below it.
 *   Bytes pile up only while the peer is paused or not yet attached (or within one microtask).
 * - `close()` lets the peer read everything written, then the peer sees the end, closes entirely
 *   (`sink.close(undefined)`) and its own end reaches this side, which then closes the same way.
 *   A graceful close resumes reading so the peer's end can be seen.
 * - `close(error)` is a reset: undelivered bytes in both directions are dropped, this end closes
 *   with `error`, the peer closes with a `ConnectionClosedError` ("connection reset by peer").
 *   A sink whose `data` or `drain` throws resets the socket with what it threw.
 *
 * `memoryNetwork()` wires a `Listen` and a `Connect` together the way a TCP listener and a
 * connector are, so a server and a client can run in memory exactly as over TCP.
 *
 * @module
 */

import {
  ConnectError,
  ConnectionClosedError,
  InvalidArgumentError,
  TransportError,
} from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import type {
  Connect,
  ConnectOptions,
  Listen,
  Socket,
  SocketClosed,
  SocketInfo,
  SocketListener,
  SocketSink,
} from "../../src/socket.ts";

/** Options for a memory socket pair or network. */
export interface MemorySocketOptions {
  /** Undelivered bytes above which `write` returns false (default: `writeHighWaterMark`). */
  readonly highWaterMark?: number;
  /** Names the pair in addresses and error messages (default `memory`). */
  readonly label?: string;
}

type State = "open" | "ending" | "closed";

class MemorySocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  peer!: MemorySocket;

  readonly #highWaterMark: number;
  readonly #name: string;
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
  /** Set once the socket has ended; `#finished` once the sink and `closed` have been told. */
  #closeReason: { error: unknown } | undefined;
  #finished = false;
  #resolveClosed!: (closed: SocketClosed) => void;

  constructor(info: SocketInfo, highWaterMark: number, name: string) {
    this.info = info;
    this.#highWaterMark = highWaterMark;
    this.#name = name;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get bufferedAmount(): number {
    return this.#state === "closed" ? 0 : this.peer.#inboundBytes;
  }

  attach(sink: SocketSink): void {
    if (this.#sink !== undefined) {
      throw new InvalidArgumentError(`attach on memory socket ${this.#name}: already attached`);
    }
    if (sink === null || typeof sink !== "object") {
      throw new InvalidArgumentError(
        `attach on memory socket ${this.#name}: expected a SocketSink, received ${typeof sink}`,
      );
    }
    this.#sink = sink;
    this.#scheduleFlush();
    // A peer that wrote before we attached may be waiting for a drain.
    this.peer.#scheduleFlush();
  }

  write(chunk: Uint8Array): boolean {
    if (!(chunk instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        `write on memory socket ${this.#name}: expected a Uint8Array, received ${describe(chunk)}`,
      );
    }
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

  /** Delivers what is deliverable, then the peer's end, then drains the peer. Always a microtask. */
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
        sink.data(chunk.slice());
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
      error: new ConnectionClosedError(
        `memory socket ${peer.#name}: connection reset by peer ${this.#name}`,
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

const EMPTY = new Uint8Array(0);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

function checkOptions(options: MemorySocketOptions | undefined): Required<MemorySocketOptions> {
  const highWaterMark = options?.highWaterMark ?? defaultLimits.writeHighWaterMark;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) {
    throw new InvalidArgumentError(
      `memory socket: highWaterMark must be a non-negative integer, received ${highWaterMark}`,
    );
  }
  return { highWaterMark, label: options?.label ?? "memory" };
}

function makePair(
  highWaterMark: number,
  a: { name: string; address: string },
  b: { name: string; address: string },
): [MemorySocket, MemorySocket] {
  const left = new MemorySocket(
    { transport: "memory", localAddress: a.address, remoteAddress: b.address },
    highWaterMark,
    a.name,
  );
  const right = new MemorySocket(
    { transport: "memory", localAddress: b.address, remoteAddress: a.address },
    highWaterMark,
    b.name,
  );
  left.peer = right;
  right.peer = left;
  return [left, right];
}

/** Two connected in-memory sockets. */
export function memorySocketPair(options?: MemorySocketOptions): [Socket, Socket] {
  const { highWaterMark, label } = checkOptions(options);
  return makePair(
    highWaterMark,
    { name: `${label}/a`, address: `${label}:a` },
    { name: `${label}/b`, address: `${label}:b` },
  );
}

/** A `Listen` and a `Connect` wired to each other in memory. */
export interface MemoryNetwork {
  /** Binds the network's single address; rejects while another listener is bound. */
  readonly listen: Listen;
  /** Connects to the bound listener; rejects with `ConnectError` when nothing listens. */
  readonly connect: Connect;
}

/** A one-address in-memory network: `connect` reaches whatever `listen` bound. */
export function memoryNetwork(options?: MemorySocketOptions): MemoryNetwork {
  const { highWaterMark, label } = checkOptions(options);
  const port = 1;
  const url = `memory://${label}:${port}`;
  let accept: ((socket: Socket) => void) | undefined;
  let connections = 0;

  const listen: Listen = (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(
        new InvalidArgumentError(`listen on ${url}: onSocket must be a function`),
      );
    }
    if (accept !== undefined) {
      return Promise.reject(
        new TransportError(`listen on ${url} failed: address already in use`),
      );
    }
    const current = onSocket;
    accept = current;
    let open = true;
    const listener: SocketListener = {
      address: { host: label, port, url },
      close: () => {
        if (open) {
          open = false;
          if (accept === current) accept = undefined;
        }
        return Promise.resolve();
      },
    };
    return Promise.resolve(listener);
  };

  const connect: Connect = async (connectOptions?: ConnectOptions) => {
    const signal = connectOptions?.signal;
    signal?.throwIfAborted();
    // Connecting takes a turn of the event loop, as over a real network.
    await Promise.resolve();
    signal?.throwIfAborted();
    const onSocket = accept;
    if (onSocket === undefined) {
      throw new ConnectError(`connect to ${url} failed: connection refused (nothing listening)`);
    }
    const id = ++connections;
    const [client, server] = makePair(
      highWaterMark,
      { name: `${label}/client-${id}`, address: `${label}:client-${id}` },
      { name: `${label}/server-${id}`, address: `${label}:${port}` },
    );
    try {
      onSocket(server);
    } catch (error) {
      server.close(error);
    }
    return client;
  };

  return { listen, connect };
}
