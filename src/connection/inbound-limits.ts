/**
 * How one connection applies its inbound limits:
 *
 * - {@linkcode InboundFrameRoom}: the decoder's `memory` option over a shared
 *   {@linkcode InboundFrameBudget}. A frame that spans received chunks is charged before its buffer
 *   exists; without room the connection stops reading (backpressure reaches the peer) and waits in
 *   the budget's line; once granted, the decoder resumes with the bytes it held.
 * - {@linkcode refuseOversizedRequest}: the reply to a request frame over `maxFrameLength`, sent
 *   once its body has been skipped: an RpcFailure naming the limit (Spark's server answers such a
 *   request too; a reset would fail everything else in flight on the connection).
 *
 * @module
 */

import { LimitError } from "../errors.ts";
import type { FrameMemory } from "../protocol/decoder.ts";
import { type Int64, MessageType, type RpcFailure } from "../protocol/messages.ts";
import { describeOversizedFrame, type OversizedFrame } from "../protocol/oversized-frame.ts";
import type { InboundFrameBudget, InboundFrameWaiter } from "./inbound-frame-budget.ts";

/** What an {@linkcode InboundFrameRoom} needs from its connection. */
export interface InboundFrameRoomHost {
  pause(owner: object): void;
  resume(owner: object): void;
  isOpen(): boolean;
  /** Room was charged for the waiting frame: resume decoding (`FrameDecoder.roomGranted`). */
  granted(): void;
}

export class InboundFrameRoom implements FrameMemory {
  readonly limit: number;
  readonly #budget: InboundFrameBudget;
  readonly #host: InboundFrameRoomHost;
  #waiter: InboundFrameWaiter | undefined;
  #closed = false;

  constructor(budget: InboundFrameBudget, host: InboundFrameRoomHost) {
    this.#budget = budget;
    this.#host = host;
    this.limit = budget.limit;
  }

  /** Whether the connection is waiting for room (its reading is paused for it). */
  get waiting(): boolean {
    return this.#waiter !== undefined;
  }

  reserve(size: number): boolean {
    if (this.#closed) return true; // nothing will be decoded any more; nothing to charge
    if (this.#budget.tryReserve(size)) return true;
    const waiter: InboundFrameWaiter = { size, granted: () => this.#granted(waiter) };
    this.#waiter = waiter;
    this.#host.pause(this);
    this.#budget.wait(waiter);
    return false;
  }

  release(size: number): void {
    this.#budget.release(size);
  }

  /** The connection closed: leave the line (a grant already on its way is given back). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter !== undefined) this.#budget.cancel(waiter);
  }

  #granted(waiter: InboundFrameWaiter): void {
    if (this.#waiter !== waiter || this.#closed || !this.#host.isOpen()) {
      // Cancelled after the budget charged it (the grant was already queued): give it back.
      this.#budget.release(waiter.size);
      return;
    }
    this.#waiter = undefined;
    this.#host.resume(this);
    this.#host.granted();
  }
}

/** The failure reply to a request frame that was skipped for being over a limit. */
export function refuseOversizedRequest(
  frame: OversizedFrame & { readonly requestId: Int64 },
): RpcFailure {
  const error = new LimitError(
    `Request refused: its ${describeOversizedFrame(frame)}; the body was discarded`,
  );
  return {
    type: MessageType.RpcFailure,
    requestId: frame.requestId,
    error: `${error.name}: ${error.message}`,
  };
}
