/**
 * The per-connection side of pulled replies: chunk fetches and stream requests of one connection
 * wait here as small records (no chunk bytes) until both its reply window (`replyWindowBytes`)
 * and the server-wide {@linkcode ReplyMemory} have room; only then is the source read.
 *
 * - **Charge before reading.** A reply's size is unknown until its source produced it, so it is
 *   charged an estimate: the largest reply this connection produced so far (at least 1 MiB, a
 *   common chunk size). When the bytes arrive the charge becomes their real size. The estimate
 *   never shrinks, so a peer cannot fetch one tiny chunk to make many large reads look cheap; a
 *   reply larger than the estimate goes over by at most what was granted at the old estimate.
 * - **Release when written.** The charge is given back once the reply was handed to the socket
 *   (which itself holds at most about its high-water mark: the frame writer stops handing it bytes
 *   while it is full), failed, or was dropped. A connection whose peer does not read therefore
 *   holds at most its window; everything else it asked for waits here as records.
 * - **Order and fairness.** Records start in arrival order. While the server-wide budget is full
 *   the connection waits in line there and gets one reply per turn (see reply-memory.ts); a
 *   connection already holding memory cannot take the budget's last quarter (its reserve for
 *   first replies), and one whose peer stopped reading is reset at `replyPressureTimeoutMs` while
 *   others wait (reply-pressure.ts).
 * - With nothing charged on the connection, one reply is always let through the window, so a reply
 *   larger than the window is served (alone).
 *
 * The records are the reply producers' own objects ({@linkcode GatedReply}): nothing is allocated
 * per request here.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import type { LimitError } from "../errors.ts";
import type { GrantOutcome, ReplyMemory, ReplyMemoryWaiter } from "./reply-memory.ts";
import type { ReplyHolder } from "./reply-pressure.ts";

/** The smallest (and first) estimate of a reply's size: a common chunk size. */
const INITIAL_ESTIMATE = 1024 * 1024;
/** Compact the queue once this many started or withdrawn records sit before its head. */
const COMPACT_AFTER = 1024;

/** A reply waiting for (or holding) its charge; owned by a reply producer. */
export interface GatedReply {
  /** Bytes charged for it (0 while it waits, and once given back). Maintained by the gate. */
  charged: number;
  /** Waiting in its gate for room. Maintained by the gate. */
  waiting: boolean;
  /** Its bytes are charged: read the source now. */
  start(): void;
  /** The connection closed before its turn: give back what else it holds (it never started). */
  drop(): void;
}

/** The connection a gate serves, as the reply-memory pressure deadline sees it. */
export interface ReplyGateConnection {
  /** `performance.now()` since when its outbound writes are blocked (the peer is not reading). */
  stalledSince(): number | undefined;
  /** Resets the connection (`replyPressureTimeoutMs`). */
  reset(error: LimitError): void;
}

export class ReplyGate implements ReplyMemoryWaiter, ReplyHolder {
  readonly #memory: ReplyMemory;
  readonly #connection: ReplyGateConnection | undefined;
  /** Bytes this connection may have charged at once (`replyWindowBytes`). */
  readonly window: number;
  #charged = 0;
  #estimate = INITIAL_ESTIMATE;
  #queue: GatedReply[] = [];
  #head = 0;
  #waiting = 0;
  #pumping = false;
  #pumpAgain = false;
  #closed = false;

  /**
   * @param connection what the pressure deadline needs of the connection (without it, the gate is
   *   never reset for holding memory).
   */
  constructor(
    memory: ReplyMemory,
    window: number = defaultLimits.replyWindowBytes,
    connection?: ReplyGateConnection,
  ) {
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new InvalidArgumentError(
        `Invalid replyWindowBytes: expected a positive integer, got ${String(window)}`,
      );
    }
    this.#memory = memory;
    this.window = window;
    this.#connection = connection;
  }

  /** Bytes charged for this connection's replies now. */
  get charged(): number {
    return this.#charged;
  }

  stalledSince(): number | undefined {
    return this.#connection?.stalledSince();
  }

  reset(error: LimitError): void {
    this.#connection?.reset(error);
  }

  /** Records waiting for room. */
  get waiting(): number {
    return this.#waiting;
  }

  /** What the next reply will be charged before its source is read. */
  get estimate(): number {
    return this.#estimate;
  }

  /** Queues `reply`; it starts as soon as there is room (possibly before this returns). */
  admit(reply: GatedReply): void {
    if (this.#closed) {
      reply.drop();
      return;
    }
    reply.waiting = true;
    this.#queue.push(reply);
    this.#waiting++;
    this.#memory.countWaiting(1);
    this.#pump();
  }

  /** Takes a waiting record out (cancelled). Returns false when it is not waiting (started). */
  withdraw(reply: GatedReply): boolean {
    if (!reply.waiting) return false;
    reply.waiting = false;
    this.#waiting--;
    this.#memory.countWaiting(-1);
    if (this.#waiting === 0) {
      this.#queue = [];
      this.#head = 0;
      this.#memory.leave(this);
    }
    return true;
  }

  /** The reply's bytes are here: its charge becomes their real size. */
  resize(reply: GatedReply, bytes: number): void {
    if (bytes > this.#estimate) this.#estimate = bytes;
    const delta = bytes - reply.charged;
    if (delta === 0 || reply.charged === 0) return;
    reply.charged = bytes;
    this.#charge(delta);
    this.#memory.adjust(delta);
    if (delta < 0) this.#pump();
  }

  /** Gives back what `reply` was charged (idempotent); the next waiting records may start. */
  release(reply: GatedReply): void {
    const bytes = reply.charged;
    if (bytes === 0) return;
    reply.charged = 0;
    this.#charge(-bytes);
    this.#memory.release(bytes);
    this.#pump();
  }

  /** The connection closed: waiting records are dropped; charged ones release as they settle. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#memory.leave(this);
    const queue = this.#queue;
    const head = this.#head;
    this.#queue = [];
    this.#head = 0;
    this.#memory.countWaiting(-this.#waiting);
    this.#waiting = 0;
    for (let i = head; i < queue.length; i++) {
      const reply = queue[i]!;
      if (!reply.waiting) continue;
      reply.waiting = false;
      reply.drop();
    }
  }

  /** The server-wide budget gives this connection its turn: start at most one reply. */
  grantOne(): GrantOutcome {
    const next = this.#next();
    if (next === undefined || !this.#windowHasRoom()) return "done";
    const estimate = this.#estimate;
    if (!this.#memory.tryCharge(estimate, true, this.#charged)) return "full";
    this.#start(next, estimate);
    return this.#next() !== undefined && this.#windowHasRoom() ? "more" : "done";
  }

  /** Starts waiting records while there is room; re-entrant calls fold into the running loop. */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        for (;;) {
          const next = this.#next();
          if (next === undefined || !this.#windowHasRoom()) break;
          const estimate = this.#estimate;
          if (!this.#memory.tryCharge(estimate, false, this.#charged)) {
            this.#memory.wait(this);
            break;
          }
          this.#start(next, estimate);
        }
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #windowHasRoom(): boolean {
    return this.#charged === 0 || this.#charged + this.#estimate <= this.window;
  }

  /** The first record still waiting (skipping withdrawn ones), or undefined. */
  #next(): GatedReply | undefined {
    if (this.#closed) return undefined;
    const queue = this.#queue;
    while (this.#head < queue.length && !queue[this.#head]!.waiting) this.#head++;
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    return this.#queue[this.#head];
  }

  #start(reply: GatedReply, bytes: number): void {
    this.#head++;
    reply.waiting = false;
    this.#waiting--;
    this.#memory.countWaiting(-1);
    reply.charged = bytes;
    this.#charge(bytes);
    reply.start();
  }

  /** This connection's charge changes by `delta`; the pressure watch learns when it holds any. */
  #charge(delta: number): void {
    const before = this.#charged;
    this.#charged += delta;
    if ((before > 0) !== (this.#charged > 0)) this.#memory.holding(this, this.#charged > 0);
  }
}
