/**
 * The deadlines of one client's requests, without a timer per request.
 *
 * `watchDeadline` arms a timer, makes three closures and a message string per call: for a 64-byte
 * RPC echo with a `timeoutMs` (Spark's synchronous calls always have one) that was 1.3 KB of the
 * client's allocation per request and about half of its CPU (bench/probes/rpc-cost-ab.ts). Here a
 * request's deadline is ONE object (a {@linkcode RequestDeadline}) and the client holds ONE timer:
 *
 * - Requests with the same `timeoutMs` expire in the order they were sent, so each `timeoutMs`
 *   has a FIFO list (doubly linked: a reply unlinks its request in O(1)); the timer is armed for
 *   the earliest head. A request that settles leaves the timer as it is; when it fires early (its
 *   request replied) it is re-armed for the new earliest head: about one timer per `timeoutMs`
 *   period, whatever the request rate.
 * - When the last watched request settles the timer is cleared in a microtask, not at once: a
 *   caller that sends its next request as each reply arrives (one in flight) keeps the timer.
 * - A `signal` gets the request object itself as its `abort` listener (`handleEvent`), so no
 *   closure either. The timeout's message is composed only when it expires.
 *
 * @module
 */

import { type Clock, keepAliveClock, type TimerHandle } from "../clock.ts";
import type { ReplyDeadline } from "../connection/pending-reply.ts";
import { TimeoutError } from "../errors.ts";

const ONCE: AddEventListenerOptions = { once: true };

/** Requests of one `timeoutMs`, oldest (earliest expiry) first. */
interface DeadlineList {
  readonly owner: RequestDeadlines;
  readonly timeoutMs: number;
  head: RequestDeadline | undefined;
  tail: RequestDeadline | undefined;
}

/**
 * One request's deadline: its place in its `timeoutMs` list, its signal listener, and what to do
 * when it passes. Subclasses say what the request is (`what`) and how it is forgotten (`expired`).
 */
export abstract class RequestDeadline implements ReplyDeadline {
  prev: RequestDeadline | undefined = undefined;
  next: RequestDeadline | undefined = undefined;
  /** The list of its `timeoutMs` while it is in it. */
  list: DeadlineList | undefined = undefined;
  /** When it expires, in whole milliseconds of the clock (a small integer: no number box). */
  expiresAt = 0;
  signal: AbortSignal | undefined = undefined;

  /** What timed out, for the `TimeoutError` message (`RPC 7 to host:port`). */
  abstract what(): string;

  /** The deadline passed or the signal aborted: forget the request and fail it with `error`. */
  abstract expired(error: unknown): void;

  /** The reply settled: stop watching. Idempotent. */
  dispose(): void {
    if (this.list !== undefined) this.list.owner.unwatch(this);
    else if (this.signal !== undefined) RequestDeadlines.unlisten(this);
  }

  /** The signal's `abort` listener. */
  handleEvent(): void {
    const reason = this.signal?.reason;
    this.dispose();
    this.expired(reason);
  }
}

/**
 * A deadline described by a string and forgotten by closures (the less frequent requests). It
 * becomes `reply`'s deadline, disposed once the reply settles.
 */
export class ClosureDeadline extends RequestDeadline {
  constructor(
    reply: { deadline: ReplyDeadline | undefined },
    readonly description: string,
    readonly onExpired: (error: unknown) => void,
  ) {
    super();
    reply.deadline = this;
  }
  what(): string {
    return this.description;
  }
  expired(error: unknown): void {
    this.onExpired(error);
  }
}

export class RequestDeadlines {
  readonly #clock: Clock;
  readonly #lists = new Map<number, DeadlineList>();
  /** Requests in the lists. */
  #count = 0;
  #timer: TimerHandle | undefined;
  /** When `#timer` fires (Infinity: none armed). */
  #timerDue = Infinity;
  #clearQueued = false;
  readonly #fire = () => this.#expire();
  readonly #clearIfIdle = () => {
    this.#clearQueued = false;
    if (this.#count === 0) this.#clearTimer();
  };

  /** `clock` arms the timer (default: a real-time timer that keeps the process alive). */
  constructor(clock: Clock | undefined) {
    this.#clock = clock ?? keepAliveClock;
  }

  /** Requests watched for a timeout (not counting those with only a signal). */
  get size(): number {
    return this.#count;
  }

  /**
   * Watches `deadline` for `timeoutMs` (0: none) and `signal` until it is disposed (its reply
   * settled). An already-aborted signal expires it at once (synchronously).
   */
  watch(deadline: RequestDeadline, timeoutMs: number, signal: AbortSignal | undefined): void {
    if (signal !== undefined) {
      if (signal.aborted) {
        deadline.expired(signal.reason);
        return;
      }
      deadline.signal = signal;
      signal.addEventListener("abort", deadline, ONCE);
    }
    if (!(timeoutMs > 0)) return;
    const expiresAt = Math.ceil(this.#clock.now() + timeoutMs);
    deadline.expiresAt = expiresAt;
    let list = this.#lists.get(timeoutMs);
    if (list === undefined) {
      list = { owner: this, timeoutMs, head: undefined, tail: undefined };
      this.#lists.set(timeoutMs, list);
    }
    deadline.list = list;
    deadline.prev = list.tail;
    if (list.tail === undefined) list.head = deadline;
    else list.tail.next = deadline;
    list.tail = deadline;
    this.#count++;
    if (expiresAt < this.#timerDue) this.#arm(expiresAt);
  }

  /** Stops watching `deadline` (its reply settled, or it expired). Idempotent. */
  unwatch(deadline: RequestDeadline): void {
    RequestDeadlines.unlisten(deadline);
    const list = deadline.list;
    if (list === undefined) return;
    deadline.list = undefined;
    const { prev, next } = deadline;
    if (prev === undefined) list.head = next;
    else prev.next = next;
    if (next === undefined) list.tail = prev;
    else next.prev = prev;
    deadline.prev = deadline.next = undefined;
    if (--this.#count === 0 && !this.#clearQueued && this.#timer !== undefined) {
      this.#clearQueued = true;
      queueMicrotask(this.#clearIfIdle);
    }
  }

  /** Removes `deadline` from its signal's listeners, if it has a signal. */
  static unlisten(deadline: RequestDeadline): void {
    const signal = deadline.signal;
    if (signal === undefined) return;
    deadline.signal = undefined;
    signal.removeEventListener("abort", deadline);
  }

  #arm(due: number): void {
    this.#clearTimer();
    this.#timerDue = due;
    this.#timer = this.#clock.setTimer(this.#fire, due - this.#clock.now());
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  /** The timer fired: every request past its deadline expires; re-arm for the next one. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const now = this.#clock.now();
    const due: [RequestDeadline, number][] = [];
    for (const [timeoutMs, list] of this.#lists) {
      let head = list.head;
      while (head !== undefined && head.expiresAt <= now) {
        due.push([head, timeoutMs]);
        this.unwatch(head);
        head = list.head;
      }
      if (list.head === undefined) this.#lists.delete(timeoutMs);
    }
    for (const [deadline, timeoutMs] of due) {
      const error = new TimeoutError(
        `${deadline.what()} timed out after ${timeoutMs} ms`,
        timeoutMs,
      );
      deadline.expired(error);
    }
    let next = Infinity;
    for (const list of this.#lists.values()) {
      if (list.head !== undefined && list.head.expiresAt < next) next = list.head.expiresAt;
    }
    if (next < this.#timerDue) this.#arm(next);
  }
}
