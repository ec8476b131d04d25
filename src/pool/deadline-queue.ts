/**
 * Lease deadlines without a timer per lease. Waiters that use the same `timeoutMs` expire in the
 * order they arrived, so each distinct timeout value gets one FIFO queue and one timer armed for
 * its oldest entry. Adding or removing a waiter is O(1) and touches no timer unless the queue was
 * empty; when the timer fires it expires every entry that is due and re-arms for the next.
 *
 * @module
 */

import { IntrusiveList, type ListNode } from "./intrusive-list.ts";
import type { PoolClock } from "./pool-clock.ts";
import { RearmableTimer } from "./rearmable-timer.ts";

/** Something that can expire: carries its deadline and its queue membership. */
export interface Expirable {
  /** Clock time at which it expires. */
  deadline: number;
  /** Its membership in a {@linkcode DeadlineQueues} queue. */
  readonly deadlineNode: ListNode<Expirable>;
}

class DeadlineQueue {
  readonly list = new IntrusiveList<Expirable>();
  readonly timer: RearmableTimer;
  constructor(clock: PoolClock, onFire: () => void) {
    this.timer = new RearmableTimer(clock, onFire);
  }
}

/** Per-timeout FIFO queues of expirables, each with one timer. */
export class DeadlineQueues<T extends Expirable> {
  readonly #clock: PoolClock;
  readonly #onExpire: (item: T, timeoutMs: number) => void;
  readonly #queues = new Map<number, DeadlineQueue>();

  constructor(clock: PoolClock, onExpire: (item: T, timeoutMs: number) => void) {
    this.#clock = clock;
    this.#onExpire = onExpire;
  }

  /** Starts `item`'s deadline of `timeoutMs` from now (`timeoutMs` > 0). */
  add(item: T, timeoutMs: number): void {
    let queue = this.#queues.get(timeoutMs);
    if (queue === undefined) {
      const created = new DeadlineQueue(this.#clock, () => this.#fire(timeoutMs, created));
      queue = created;
      this.#queues.set(timeoutMs, queue);
    }
    item.deadline = this.#clock.now() + timeoutMs;
    queue.list.push(item.deadlineNode);
    if (queue.list.size === 1) queue.timer.armBy(item.deadline);
  }

  /** Stops `item`'s deadline (no-op when it has none). */
  remove(item: T): void {
    const list = item.deadlineNode.list;
    if (list === null) return;
    list.remove(item.deadlineNode);
    // An empty queue keeps its timer until it fires once; it is then dropped (see #fire).
  }

  /** Cancels every timer and forgets every entry. */
  clear(): void {
    for (const queue of this.#queues.values()) {
      queue.timer.cancel();
      queue.list.drain();
    }
    this.#queues.clear();
  }

  #fire(timeoutMs: number, queue: DeadlineQueue): void {
    const now = this.#clock.now();
    for (;;) {
      const node = queue.list.first;
      if (node === null) break;
      if (node.value.deadline > now) {
        queue.timer.armBy(node.value.deadline);
        return;
      }
      queue.list.remove(node);
      this.#onExpire(node.value as T, timeoutMs);
    }
    if (this.#queues.get(timeoutMs) === queue) this.#queues.delete(timeoutMs);
  }
}
