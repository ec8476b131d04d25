/**
 * Lease deadlines without a timer per lease. Waiters that use the same `timeoutMs` expire in the
 * order they arrived, so each distinct timeout value gets one FIFO queue and one timer armed for
 * its oldest entry. Adding or removing a waiter is O(1) and touches no timer unless the queue was
 * empty; when the timer fires it expires every entry that is due and re-arms for the next.
 *
 * Batched clock reads (`batchClockReads`, on by default with `systemClock`): reading a clock costs about as much as the rest of a
 * lease, so with a real clock an entry joining a non-empty queue is not stamped at once. One
 * microtask reads the clock once and stamps every entry added since. That reading is taken after
 * the entries arrived, so a deadline can come out a few microseconds late, never early; and since
 * microtasks run before any timer, no timer ever sees an unstamped entry. An entry that finds its
 * queue empty is stamped at once (its timer must be armed). With a hand-driven test clock, whose
 * time moves between microtasks, batching is off and every entry is stamped exactly.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { systemClock } from "../clock.ts";
import { RearmableTimer } from "./rearmable-timer.ts";

/**
 * Something that can expire. Its deadline-queue links live on the object itself, so joining a
 * queue allocates nothing; the fields belong to {@linkcode DeadlineQueues}.
 */
export interface Expirable {
  /** Clock time at which it expires (NaN until stamped). */
  deadline: number;
  deadlinePrev: Expirable | null;
  deadlineNext: Expirable | null;
  /** The queue it is in, or null. */
  deadlineQueue: object | null;
}

/** One FIFO of expirables sharing a timeout, with its timer. */
class DeadlineQueue {
  head: Expirable | null = null;
  tail: Expirable | null = null;
  /** Oldest entry not stamped yet; every entry after it is unstamped too. */
  firstUnstamped: Expirable | null = null;
  readonly timeoutMs: number;
  readonly timer: RearmableTimer;

  constructor(timeoutMs: number, clock: Clock, onFire: () => void) {
    this.timeoutMs = timeoutMs;
    this.timer = new RearmableTimer(clock, onFire);
  }

  push(item: Expirable): void {
    item.deadlineQueue = this;
    item.deadlinePrev = this.tail;
    item.deadlineNext = null;
    if (this.tail === null) this.head = item;
    else this.tail.deadlineNext = item;
    this.tail = item;
  }

  remove(item: Expirable): void {
    if (item === this.firstUnstamped) this.firstUnstamped = item.deadlineNext;
    if (item.deadlinePrev === null) this.head = item.deadlineNext;
    else item.deadlinePrev.deadlineNext = item.deadlineNext;
    if (item.deadlineNext === null) this.tail = item.deadlinePrev;
    else item.deadlineNext.deadlinePrev = item.deadlinePrev;
    item.deadlinePrev = null;
    item.deadlineNext = null;
    item.deadlineQueue = null;
  }

  /** Gives every unstamped entry the deadline `now + timeoutMs`. */
  stamp(now: number): void {
    const deadline = now + this.timeoutMs;
    for (let item = this.firstUnstamped; item !== null; item = item.deadlineNext) {
      item.deadline = deadline;
    }
    this.firstUnstamped = null;
  }
}

/** Per-timeout FIFO queues of expirables, each with one timer. */
export class DeadlineQueues<T extends Expirable> {
  readonly #clock: Clock;
  readonly #onExpire: (item: T, timeoutMs: number) => void;
  readonly #batch: boolean;
  readonly #queues = new Map<number, DeadlineQueue>();
  /** Queues holding unstamped entries, and whether the stamping microtask is queued. */
  readonly #unstamped: DeadlineQueue[] = [];
  #stampQueued = false;
  /** The queue used last, while it is in the map. */
  #last: DeadlineQueue | undefined = undefined;

  constructor(
    clock: Clock,
    onExpire: (item: T, timeoutMs: number) => void,
    options: { batchClockReads?: boolean } = {},
  ) {
    this.#clock = clock;
    this.#onExpire = onExpire;
    this.#batch = options.batchClockReads ?? clock === systemClock;
  }

  /** Starts `item`'s deadline of `timeoutMs` from now (`timeoutMs` > 0). */
  add(item: T, timeoutMs: number): void {
    // Nearly every lease uses the same timeout: skip the map lookup for a repeat.
    let queue = this.#last !== undefined && this.#last.timeoutMs === timeoutMs
      ? this.#last
      : this.#queues.get(timeoutMs);
    if (queue === undefined) {
      const created = new DeadlineQueue(timeoutMs, this.#clock, () => this.#fire(created));
      queue = created;
      this.#queues.set(timeoutMs, queue);
    }
    this.#last = queue;
    const empty = queue.head === null;
    queue.push(item);
    if (empty || !this.#batch) {
      item.deadline = this.#clock.now() + timeoutMs;
      if (empty) queue.timer.armBy(item.deadline);
      return;
    }
    item.deadline = NaN;
    if (queue.firstUnstamped === null) {
      queue.firstUnstamped = item;
      this.#unstamped.push(queue);
    }
    if (!this.#stampQueued) {
      this.#stampQueued = true;
      queueMicrotask(this.#stampAll);
    }
  }

  /** Stops `item`'s deadline (no-op when it has none). */
  remove(item: T): void {
    const queue = item.deadlineQueue as DeadlineQueue | null;
    if (queue === null) return;
    queue.remove(item);
    // An empty queue keeps its timer until it fires once; it is then dropped (see #fire).
  }

  /** Cancels every timer and forgets every entry. */
  clear(): void {
    for (const queue of this.#queues.values()) {
      queue.timer.cancel();
      while (queue.head !== null) queue.remove(queue.head);
    }
    this.#queues.clear();
    this.#unstamped.length = 0;
    this.#last = undefined;
  }

  readonly #stampAll = (): void => {
    this.#stampQueued = false;
    if (this.#unstamped.length === 0) return;
    const now = this.#clock.now();
    for (const queue of this.#unstamped) queue.stamp(now);
    this.#unstamped.length = 0;
  };

  #fire(queue: DeadlineQueue): void {
    this.#stampAll(); // only ever has work with a clock that moves between microtasks
    const now = this.#clock.now();
    for (;;) {
      const item = queue.head;
      if (item === null) break;
      if (item.deadline > now) {
        queue.timer.armBy(item.deadline);
        return;
      }
      queue.remove(item);
      this.#onExpire(item as T, queue.timeoutMs);
    }
    if (this.#queues.get(queue.timeoutMs) === queue) this.#queues.delete(queue.timeoutMs);
    if (this.#last === queue) this.#last = undefined;
  }
}
