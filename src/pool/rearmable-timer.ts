/**
 * One timer that can be moved earlier and re-armed, used for the pool's idle sweep and for each
 * lease-deadline queue. Arming for a time at or after the one already armed does nothing, so the
 * hot path can call `armBy` freely without timer churn.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../clock.ts";

/** A single pending wake-up at a clock time. */
export class RearmableTimer {
  readonly #clock: Clock;
  readonly #onFire: () => void;
  #handle: TimerHandle | undefined = undefined;
  #at = Infinity;

  constructor(clock: Clock, onFire: () => void) {
    this.#clock = clock;
    this.#onFire = onFire;
  }

  /** Clock time the timer fires at, or Infinity when disarmed. */
  get at(): number {
    return this.#at;
  }

  /** Makes sure the timer fires no later than `at` (a clock time). */
  armBy(at: number): void {
    if (at >= this.#at) return;
    if (this.#handle !== undefined) this.#clock.clearTimer(this.#handle);
    this.#at = at;
    this.#handle = this.#clock.setTimer(this.#fire, at - this.#clock.now());
  }

  /** Disarms the timer. */
  cancel(): void {
    if (this.#handle !== undefined) this.#clock.clearTimer(this.#handle);
    this.#handle = undefined;
    this.#at = Infinity;
  }

  readonly #fire = (): void => {
    this.#handle = undefined;
    this.#at = Infinity;
    this.#onFire();
  };
}
