/**
 * The pool's errors, in one place: a lease not granted before its deadline
 * ({@linkcode PoolTimeoutError}) and a pool closed under a lease ({@linkcode PoolClosedError}).
 *
 * @module
 */

import { TransportError } from "../errors.ts";

/** A pool lease was not granted before its deadline. */
export class PoolTimeoutError extends TransportError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super(message, { code: "ERR_POOL_TIMEOUT" });
    this.timeoutMs = timeoutMs;
  }
}

/** `lease` on a closed pool, or a lease still waiting when `close()` was called. */
export class PoolClosedError extends TransportError {
  constructor(message: string) {
    super(message, { code: "ERR_POOL_CLOSED" });
  }
}
