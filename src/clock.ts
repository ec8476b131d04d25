/**
 * Ferry's one view of time: a monotonic `now()` and one-shot timers. Every timer in `src/` is
 * armed through a {@linkcode Clock} (deadlines, watchdogs, the pool, the gateway, heartbeats), so
 * tests inject a hand-driven clock instead of sleeping. The default, {@linkcode systemClock},
 * reads `performance.now()` and arms timers that never keep a process alive (every timer Ferry
 * sets guards a deadline or an eviction; none is work by itself).
 *
 * @module
 */

/** Opaque handle of a timer armed through a {@linkcode Clock}. */
export type TimerHandle = unknown;

/**
 * Time source and one-shot timers.
 *
 * @example
 * ```ts
 * import type { Clock } from "ferry-transport";
 *
 * // A clock that runs at real speed but logs every timer it arms.
 * const logging: Clock = {
 *   now: () => performance.now(),
 *   setTimer(callback, delayMs) {
 *     console.log(`timer in ${delayMs} ms`);
 *     return setTimeout(callback, delayMs);
 *   },
 *   clearTimer: (handle) => clearTimeout(handle as number),
 * };
 * logging.clearTimer(logging.setTimer(() => {}, 10));
 * ```
 */
export interface Clock {
  /** Monotonic milliseconds (any origin). */
  now(): number;
  /** Calls `callback` once after `delayMs`; must not keep the process alive where avoidable. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer armed by `setTimer`. Idempotent; ignores settled timers. */
  clearTimer(handle: TimerHandle): void;
}

/** Real time: `performance.now()` and unref'd `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    unrefTimer(timer);
    return timer;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/**
 * Lets a timer not keep the process alive, where the runtime's timer handle supports it (Node's
 * `Timeout.unref`). Elsewhere (browsers) it is a no-op; runtimes without it keep the timer.
 * Lives here, with the clock that uses it, so `deadline.ts` can import the clock without a cycle.
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  const handle = timer as unknown as { unref?: () => void };
  if (typeof handle === "object" && handle !== null && typeof handle.unref === "function") {
    handle.unref();
  }
}

/**
 * Real time whose timers keep the process alive: a caller awaiting nothing but an operation with
 * a deadline (a request on an in-memory socket, a job) must still see it expire.
 */
export const keepAliveClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, Math.max(0, delayMs)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
