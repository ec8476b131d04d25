/**
 * The pool's errors, in one place: a lease not granted before its deadline
 * ({@linkcode PoolTimeoutError}) and a pool closed under a lease ({@linkcode PoolClosedError}).
 *
 * @module
 */

import { TransportError } from "../errors.ts";

/**
 * A pool lease was not granted before its deadline.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { type ConnectionPool, PoolTimeoutError } from "ferry-transport/pool";
 *
 * declare const pool: ConnectionPool<TransportClient>;
 * try {
 *   await using _lease = await pool.lease("executor-1", { timeoutMs: 100 });
 * } catch (error) {
 *   if (!(error instanceof PoolTimeoutError)) throw error;
 *   console.log(`every connection to executor-1 stayed busy for ${error.timeoutMs} ms`);
 * }
 * ```
 */
export class PoolTimeoutError extends TransportError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super(message, { code: "ERR_POOL_TIMEOUT" });
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `lease` on a closed pool, or a lease still waiting when `close()` was called.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { type ConnectionPool, PoolClosedError } from "ferry-transport/pool";
 *
 * declare const pool: ConnectionPool<TransportClient>;
 * await pool.close();
 * await pool.lease("executor-1").catch((error) => {
 *   console.log(error instanceof PoolClosedError); // true
 * });
 * ```
 */
export class PoolClosedError extends TransportError {
  constructor(message: string) {
    super(message, { code: "ERR_POOL_CLOSED" });
  }
}
