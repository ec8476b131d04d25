/**
 * The pool's view of time: a monotonic `now()` and one-shot timers. Injected so unit tests drive
 * time by hand; the default reads `performance.now()` and arms timers that never keep a process
 * alive (every timer the pool sets guards a deadline or an eviction, none is work by itself).
 *
 * @module
 */

import { unrefTimer } from "../deadline.ts";

/** Opaque handle of a timer armed through a {@linkcode PoolClock}. */
export type TimerHandle = unknown;

/** Time source and timers used by the pool and its helpers. */
export interface PoolClock {
  /** Monotonic milliseconds (any origin). */
  now(): number;
  /** Calls `callback` once after `delayMs`; must not keep the process alive where avoidable. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer armed by `setTimer`. Idempotent; ignores settled timers. */
  clearTimer(handle: TimerHandle): void;
}

/** Real time: `performance.now()` and unref'd `setTimeout`. */
export const systemClock: PoolClock = {
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
