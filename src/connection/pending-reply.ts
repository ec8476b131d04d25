/**
 * One request waiting for its reply: the promise's settle functions and the deadline watching it.
 * Settles at most once; settling removes the deadline's timer and listener.
 *
 * @module
 */

import type { DisposeDeadline } from "../deadline.ts";

export class PendingReply<T> {
  readonly #resolve: (value: T) => void;
  readonly #reject: (error: unknown) => void;
  /** Set once the deadline is armed (after registration, so an early abort finds the entry). */
  disposeDeadline: DisposeDeadline | undefined;
  #settled = false;

  constructor(resolve: (value: T) => void, reject: (error: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(value: T): void {
    if (this.#settled) return;
    this.#settled = true;
    this.disposeDeadline?.();
    this.#resolve(value);
  }

  reject(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.disposeDeadline?.();
    this.#reject(error);
  }
}
