/**
 * The server-wide reply-memory budget (`maxReplyBytes`): bytes of chunk and stream replies whose
 * source is being read or whose bytes wait to be handed to a socket, over every connection. A
 * source is read only after its bytes are charged here (and to its connection's
 * {@linkcode ReplyGate} window); they are given back once the reply has been handed to the socket,
 * failed, or was dropped.
 *
 * When the budget is full, connections with replies waiting queue here and are served round-robin:
 * each release grants one reply to the connection at the head, which then goes to the back of the
 * line if it has more. One connection's backlog (4 096 fetches) therefore delays another
 * connection's fetch by at most one reply per waiting connection, never by the whole backlog.
 *
 * With nothing charged at all a reply is always granted, so one reply larger than the whole budget
 * still goes out (alone) rather than waiting forever.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";

/**
 * What a waiting connection answers when it gets its turn: `more` (it took one reply and has more
 * that can go: back of the line), `done` (nothing more for the budget now: no reply waiting, or its
 * own window is full) or `full` (the budget had no room: it stays at the head until the next
 * release).
 */
export type GrantOutcome = "more" | "done" | "full";

/** A connection waiting for reply memory (its {@linkcode ReplyGate}). */
export interface ReplyMemoryWaiter {
  /** Its turn: charge and start at most one reply with `tryCharge(bytes, true)`. */
  grantOne(): GrantOutcome;
}

export class ReplyMemory {
  /** Bytes the budget grants at once (`maxReplyBytes`). */
  readonly limit: number;
  #charged = 0;
  #waitingReplies = 0;
  /** Waiting connections, in turn order; `#queued` mirrors it for O(1) membership. */
  #line: ReplyMemoryWaiter[] = [];
  readonly #queued = new Set<ReplyMemoryWaiter>();
  #waking = false;

  constructor(limit: number = defaultLimits.maxReplyBytes) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError(
        `Invalid maxReplyBytes: expected a positive integer, got ${String(limit)}`,
      );
    }
    this.limit = limit;
  }

  /** Bytes charged now (may exceed `limit` by what replies turned out larger than charged). */
  get charged(): number {
    return this.#charged;
  }

  /** Connections waiting for room. */
  get waiting(): number {
    return this.#line.length;
  }

  /** Replies accepted and waiting for their turn (records without bytes), all connections. */
  get waitingReplies(): number {
    return this.#waitingReplies;
  }

  /** A connection's gate queued (+n) or let go of (−n) waiting records; for `waitingReplies`. */
  countWaiting(delta: number): void {
    this.#waitingReplies += delta;
  }

  /**
   * Charges `bytes` when there is room and no connection waits ahead (`turn`: the caller was
   * granted its turn by a wake). Returns whether it was charged.
   */
  tryCharge(bytes: number, turn = false): boolean {
    if (!turn && this.#line.length > 0) return false;
    if (this.#charged > 0 && this.#charged + bytes > this.limit) return false;
    this.#charged += bytes;
    return true;
  }

  /** A charged reply turned out `delta` bytes larger (or smaller, negative) than charged. */
  adjust(delta: number): void {
    this.#charged += delta;
    if (delta < 0) this.#wake();
  }

  /** Gives back `bytes` charged before; the connections waiting get their turns. */
  release(bytes: number): void {
    this.#charged -= bytes;
    this.#wake();
  }

  /** Queues `waiter` at the back of the line (no-op when it is already in it). */
  wait(waiter: ReplyMemoryWaiter): void {
    if (this.#queued.has(waiter)) return;
    this.#queued.add(waiter);
    this.#line.push(waiter);
  }

  /** Takes `waiter` out of the line (its connection closed). */
  leave(waiter: ReplyMemoryWaiter): void {
    if (!this.#queued.delete(waiter)) return;
    const index = this.#line.indexOf(waiter);
    if (index >= 0) this.#line.splice(index, 1);
  }

  /** Grants one reply at a time to the head of the line while the budget has room. */
  #wake(): void {
    if (this.#waking) return; // a release from inside a grant: the loop below goes on
    this.#waking = true;
    try {
      while (this.#line.length > 0) {
        const waiter = this.#line[0]!;
        const outcome = waiter.grantOne();
        if (outcome === "full") break;
        // Its connection may have closed during the grant (it left the line already).
        if (this.#line[0] !== waiter) continue;
        this.#line.shift();
        if (outcome === "more") this.#line.push(waiter);
        else this.#queued.delete(waiter);
      }
    } finally {
      this.#waking = false;
    }
  }
}
