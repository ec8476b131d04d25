/**
 * The memory of partially received frames, shared by every connection of a `TransportServer` (or
 * by the connections of clients given the same budget): `maxInboundFrameBytes`.
 *
 * A frame that spans received chunks is assembled in a buffer of its full size. That buffer is
 * charged here BEFORE it is allocated ({@linkcode InboundFrameBudget.tryReserve}); when the budget
 * has no room, the connection stops reading (backpressure: the peer's writes block) and waits in
 * line ({@linkcode InboundFrameBudget.wait}) until enough is released, so twenty peers announcing
 * 60 MiB frames hold at most the budget, not 1.2 GB. The charge is released the moment the frame is
 * complete (the buffer then belongs to whoever receives the message) or abandoned.
 *
 * No deadlock: a connection holds at most one charge (its decoder assembles one frame at a time)
 * and a connection waiting for room holds none, so every charge belongs to a connection that is
 * reading. A peer that stops sending the frame it was charged for is closed by the no-progress
 * deadline (`noProgressTimeoutMs`), which releases its charge; so is one left waiting too long.
 *
 * Waiters are served in arrival order: a large frame is not starved by a stream of small ones.
 * Room is granted by reserving on the waiter's behalf, then calling it in a microtask (never from
 * inside the decoder of the connection that released).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";

/** A connection waiting for room; `granted` runs once its bytes are reserved. */
export interface InboundFrameWaiter {
  readonly size: number;
  readonly granted: () => void;
}

/**
 * Bytes of partly received frames that the connections sharing it may hold at once, each frame
 * charged at its full size before its buffer is allocated; when full, the connection that needs
 * room stops being read (backpressure).
 *
 * @example
 * ```ts
 * import { InboundFrameBudget, TransportClient } from "ferry-transport";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * // Clients to many executors: at most 512 MiB of partly received frames over all of them.
 * const inbound = new InboundFrameBudget(512 * 1024 * 1024);
 * const clients = await Promise.all([7337, 7338].map((port) =>
 *   TransportClient.connect(tcpConnect({ host: "127.0.0.1", port }), {
 *     inboundFrameBudget: inbound,
 *   })
 * ));
 * console.log(inbound.reserved, inbound.peak);
 * await Promise.all(clients.map((client) => client.close()));
 * ```
 */
export class InboundFrameBudget {
  /** Bytes of partial frames allowed at once over every connection sharing the budget. */
  readonly limit: number;
  #reserved = 0;
  #peak = 0;
  readonly #waiters: InboundFrameWaiter[] = [];

  constructor(limit: number = defaultLimits.maxInboundFrameBytes) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError(
        `Invalid maxInboundFrameBytes: expected a positive integer, got ${String(limit)}`,
      );
    }
    this.limit = limit;
  }

  /** Bytes charged right now. */
  get reserved(): number {
    return this.#reserved;
  }

  /** The most bytes ever charged at once (for tests and stats). */
  get peak(): number {
    return this.#peak;
  }

  /** Connections waiting for room. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Charges `size` bytes if they fit now and nobody is waiting ahead. `size` above `limit` never
   * fits: the caller must refuse that frame instead of waiting.
   */
  tryReserve(size: number): boolean {
    if (this.#waiters.length > 0 || this.#reserved + size > this.limit) return false;
    this.#charge(size);
    return true;
  }

  /** Queues `waiter` until its `size` fits; call after `tryReserve` returned false. */
  wait(waiter: InboundFrameWaiter): void {
    if (waiter.size > this.limit) {
      throw new InvalidArgumentError(
        `Cannot wait for ${waiter.size} bytes of inbound frame memory: the budget holds at most ` +
          `${this.limit} (maxInboundFrameBytes)`,
      );
    }
    this.#waiters.push(waiter);
    this.#grant();
  }

  /** Removes a waiter that no longer needs room (its connection closed). */
  cancel(waiter: InboundFrameWaiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    // The head may have been what blocked smaller waiters behind it.
    if (index === 0) this.#grant();
  }

  /** Gives back bytes charged by `tryReserve` or granted to a waiter. */
  release(size: number): void {
    this.#reserved = Math.max(0, this.#reserved - size);
    this.#grant();
  }

  #charge(size: number): void {
    this.#reserved += size;
    if (this.#reserved > this.#peak) this.#peak = this.#reserved;
  }

  #grant(): void {
    const waiters = this.#waiters;
    while (waiters.length > 0 && this.#reserved + waiters[0]!.size <= this.limit) {
      const waiter = waiters.shift()!;
      this.#charge(waiter.size);
      queueMicrotask(waiter.granted);
    }
  }
}
