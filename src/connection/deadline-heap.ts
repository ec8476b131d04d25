/**
 * One timer for the deadlines of every connection on a clock: a binary min-heap of what is due
 * when, and ONE clock timer armed for the earliest. A server holding 10 000 idle connections
 * held 10 000 runtime timers (Node: a `Timeout`, its callback and that callback's context, about
 * 250 bytes each); here each connection pays a slot of the heap's array and its index.
 *
 * Entries are intrusive ({@linkcode HeapEntry}: their due time and heap index live on the entry
 * itself), so scheduling allocates nothing. Scheduling is O(log n). When the timer fires, every
 * entry due by then is taken out (earliest first) and told (`due`), then the timer is armed for
 * the new earliest. The timer is re-armed only when an entry becomes due earlier than it is armed
 * for; an entry moved later (or removed) leaves it armed, and it then fires early, finds nothing
 * due and arms again. With no entry left the timer is cleared: an idle clock holds no timer.
 *
 * An entry is told at or after its due time rounded up to the millisecond, never before, as with
 * a timer of its own armed for whole milliseconds.
 *
 * @module
 */

import { type Clock, systemClock, type TimerHandle } from "../clock.ts";

/** Something with a deadline in a {@linkcode DeadlineHeap}; the heap owns `heapIndex`. */
export interface HeapEntry {
  /**
   * Clock time it is due at, rounded up to a whole millisecond (a small integer: no number box
   * per entry); meaningful only while it is in the heap.
   */
  dueAt: number;
  /** Its place in the heap; -1 while not in it. */
  heapIndex: number;
  /** Its due time came (it is out of the heap now); `now` is the clock's time. */
  due(now: number): void;
}

export class DeadlineHeap {
  readonly clock: Clock;
  readonly #entries: HeapEntry[] = [];
  #timer: TimerHandle | undefined;
  /** When the timer is armed to fire (Infinity: not armed). */
  #armedFor = Infinity;
  /** The time the timer fired at, while it tells the entries due (NaN otherwise). */
  #firingAt = NaN;
  readonly #fire = () => this.#onTimer();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Entries scheduled. */
  get size(): number {
    return this.#entries.length;
  }

  /** Schedules `entry` (again) for `dueAt`; an entry already in the heap moves. */
  schedule(entry: HeapEntry, dueAt: number): void {
    // Told entries scheduling themselves for now or earlier are told at the next firing (as a
    // timer of their own armed for 0 ms would fire 1 ms later), never in a loop of this one.
    if (dueAt <= this.#firingAt) dueAt = this.#firingAt + 1;
    dueAt = Math.ceil(dueAt);
    const entries = this.#entries;
    const before = entry.dueAt;
    entry.dueAt = dueAt;
    let index = entry.heapIndex;
    if (index < 0) {
      index = entries.length;
      entries.push(entry);
      entry.heapIndex = index;
      this.#up(index);
    } else if (dueAt < before) {
      this.#up(index);
    } else {
      this.#down(index);
    }
    if (dueAt < this.#armedFor && Number.isNaN(this.#firingAt)) this.#arm(dueAt);
  }

  /** Takes `entry` out of the heap (if it is in it); it will not be told. */
  remove(entry: HeapEntry): void {
    const index = entry.heapIndex;
    if (index < 0) return;
    const entries = this.#entries;
    const last = entries.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      entries[index] = last;
      last.heapIndex = index;
      this.#up(index);
      this.#down(last.heapIndex);
    }
    if (entries.length === 0 && Number.isNaN(this.#firingAt)) this.#disarm();
  }

  #arm(dueAt: number): void {
    const clock = this.clock;
    if (this.#timer !== undefined) clock.clearTimer(this.#timer);
    this.#armedFor = dueAt;
    this.#timer = clock.setTimer(this.#fire, Math.max(1, Math.ceil(dueAt - clock.now())));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const entries = this.#entries;
    const now = this.clock.now();
    this.#firingAt = now;
    try {
      // Entries told may schedule themselves again (later than now) or remove others.
      while (entries.length > 0 && entries[0]!.dueAt <= now) {
        const entry = entries[0]!;
        this.remove(entry);
        entry.due(now);
      }
    } finally {
      this.#firingAt = NaN;
      if (entries.length > 0) this.#arm(entries[0]!.dueAt);
    }
  }

  #up(index: number): void {
    const entries = this.#entries;
    const entry = entries[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = entries[parentIndex]!;
      if (parent.dueAt <= entry.dueAt) break;
      entries[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    entries[index] = entry;
    entry.heapIndex = index;
  }

  #down(index: number): void {
    const entries = this.#entries;
    const length = entries.length;
    const entry = entries[index]!;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && entries[child + 1]!.dueAt < entries[child]!.dueAt) child++;
      const next = entries[child]!;
      if (next.dueAt >= entry.dueAt) break;
      entries[index] = next;
      next.heapIndex = index;
      index = child;
    }
    entries[index] = entry;
    entry.heapIndex = index;
  }
}

/** The heap of each clock (connections on one clock share its one timer). */
const heaps = new WeakMap<Clock, DeadlineHeap>();

/** The {@linkcode DeadlineHeap} of `clock`, made on first use. */
export function deadlineHeapOf(clock: Clock = systemClock): DeadlineHeap {
  let heap = heaps.get(clock);
  if (heap === undefined) {
    heap = new DeadlineHeap(clock);
    heaps.set(clock, heap);
  }
  return heap;
}
