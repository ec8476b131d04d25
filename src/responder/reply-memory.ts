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
 * **Fair under pressure.** The last quarter of the budget (its *reserve*) goes only to connections
 * holding no reply memory: a connection's second and later replies stop at `limit − reserve`. So
 * connections whose peers never read (each holding a window) cannot take the memory a client
 * asking for its first chunk needs: 64 MiB holds six stuck 8 MiB windows and the first replies of
 * sixteen more before a newcomer waits. A connection holding none takes room when there is some,
 * even with others in line (they are waiting for more than the room there is, or hold memory
 * already), and, when the head of the line is stopped by the reserve, waiting connections holding
 * none get their turns behind it. Connections that hold memory while others wait and whose peers
 * have not read for `replyPressureTimeoutMs` are reset ({@linkcode ReplyPressureWatch}), so stuck
 * connections cannot keep the reserve either.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { integerAtLeast } from "../options.ts";
import { type ReplyHolder, ReplyPressureWatch } from "./reply-pressure.ts";

/**
 * What a waiting connection answers when it gets its turn: `more` (it took one reply and has more
 * that can go: back of the line), `done` (nothing more for the budget now: no reply waiting, or its
 * own window is full) or `full` (the budget had no room: it stays at the head until the next
 * release).
 */
export type GrantOutcome = "more" | "done" | "full";

/** A connection waiting for reply memory (its {@linkcode ReplyGate}). */
export interface ReplyMemoryWaiter {
  /** Its turn: charge and start at most one reply with `tryCharge(bytes, true, held)`. */
  grantOne(): GrantOutcome;
  /** Bytes of reply memory it holds now. */
  readonly charged: number;
}

/** The share of the budget kept for connections holding none (see the module documentation). */
const RESERVE_DIVISOR = 4;

export class ReplyMemory {
  /** Bytes the budget grants at once (`maxReplyBytes`). */
  readonly limit: number;
  /** Bytes only connections holding no reply memory may take (a quarter of `limit`). */
  readonly reserve: number;
  #charged = 0;
  #waitingReplies = 0;
  /** Waiting connections, in turn order; `#queued` mirrors it for O(1) membership. */
  #line: ReplyMemoryWaiter[] = [];
  readonly #queued = new Set<ReplyMemoryWaiter>();
  #waking = false;
  readonly #pressure: ReplyPressureWatch;

  /**
   * @param limit `maxReplyBytes`.
   * @param pressureTimeoutMs `replyPressureTimeoutMs` (0: connections are never reset for it).
   * @param clock runs the pressure deadline (the clock of the connections it watches).
   */
  constructor(
    limit: number = defaultLimits.maxReplyBytes,
    pressureTimeoutMs: number = defaultLimits.replyPressureTimeoutMs,
    clock: Clock = systemClock,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError(
        `Invalid maxReplyBytes: expected a positive integer, got ${String(limit)}`,
      );
    }
    integerAtLeast(pressureTimeoutMs, 0, "replyPressureTimeoutMs");
    this.limit = limit;
    this.reserve = Math.floor(limit / RESERVE_DIVISOR);
    this.#pressure = new ReplyPressureWatch(this, pressureTimeoutMs, clock);
  }

  /** Connections reset by `replyPressureTimeoutMs` so far. */
  get pressureResets(): number {
    return this.#pressure.resets;
  }

  /** `holder` now holds reply memory (0 → more), or holds none any more; for the pressure watch. */
  holding(holder: ReplyHolder, holds: boolean): void {
    if (holds) this.#pressure.hold(holder);
    else this.#pressure.unhold(holder);
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
   * Charges `bytes` for a connection holding `held` bytes already, when there is room for it: up
   * to `limit − reserve` and with no connection waiting ahead (`turn`: the caller was granted its
   * turn by a wake) when it holds some; up to `limit` when it holds none. Returns whether it was
   * charged.
   */
  tryCharge(bytes: number, turn = false, held = 0): boolean {
    if (held > 0) {
      if (!turn && this.#line.length > 0) return false;
      if (this.#charged + bytes > this.limit - this.reserve) return false;
    } else if (this.#charged > 0 && this.#charged + bytes > this.limit) {
      return false;
    }
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
    this.#pressure.pressure(true);
  }

  /** Takes `waiter` out of the line (its connection closed). */
  leave(waiter: ReplyMemoryWaiter): void {
    if (!this.#queued.delete(waiter)) return;
    const index = this.#line.indexOf(waiter);
    if (index >= 0) this.#line.splice(index, 1);
    if (this.#line.length === 0) this.#pressure.pressure(false);
  }

  /** Grants one reply at a time to the head of the line while the budget has room. */
  #wake(): void {
    if (this.#waking) return; // a release from inside a grant: the loop below goes on
    this.#waking = true;
    try {
      while (this.#line.length > 0) {
        const waiter = this.#line[0]!;
        const held = waiter.charged;
        const outcome = waiter.grantOne();
        if (outcome === "full") {
          if (held > 0) this.#grantNewcomers();
          break;
        }
        this.#settleTurn(0, waiter, outcome);
      }
    } finally {
      this.#waking = false;
      if (this.#line.length === 0) this.#pressure.pressure(false);
    }
  }

  /**
   * The head of the line holds memory and was stopped by the reserve: the waiting connections that
   * hold none get their turns behind it (the reserve is theirs), in line order.
   */
  #grantNewcomers(): void {
    const line = this.#line;
    for (let i = 1; i < line.length;) {
      const waiter = line[i]!;
      if (waiter.charged > 0) {
        i++;
        continue;
      }
      const outcome = waiter.grantOne();
      if (outcome === "full") return;
      // It leaves its place either way (a connection with more now holds memory: skipped when
      // met again), so the same index holds the next one.
      this.#settleTurn(i, waiter, outcome);
    }
  }

  /**
   * After `waiter`, at `index` of the line, took its turn: it leaves its place, back of the line
   * when it has `more` (nothing to do when its connection closed during the grant: it left).
   */
  #settleTurn(index: number, waiter: ReplyMemoryWaiter, outcome: GrantOutcome): void {
    if (this.#line[index] !== waiter) return;
    this.#line.splice(index, 1);
    if (outcome === "more") this.#line.push(waiter);
    else this.#queued.delete(waiter);
  }
}
