/**
 * The pool's own error: the pool was closed while a lease waited or was requested. (Lease
 * deadlines use `PoolTimeoutError` from `src/errors.ts`.)
 *
 * @module
 */

import { TransportError } from "../errors.ts";

/** `lease` on a closed pool, or a lease still waiting when `close()` was called. */
export class PoolClosedError extends TransportError {
  constructor(message: string) {
    super(message, { code: "ERR_POOL_CLOSED" });
  }
}
