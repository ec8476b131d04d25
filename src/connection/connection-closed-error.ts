/**
 * The `ConnectionClosedError` every request on a closed connection fails with: who closed it
 * (this side or the peer) and why (the `cause`).
 *
 * @module
 */

import { ConnectionClosedError, describeError } from "../errors.ts";

/** The error for a connection to `peer` that closed for `reason` (undefined: gracefully). */
export function closedError(peer: string, reason: unknown, local: boolean): ConnectionClosedError {
  if (reason === undefined) {
    return new ConnectionClosedError(
      local
        ? `Connection to ${peer} was closed by this side`
        : `Connection to ${peer} was closed by the peer`,
    );
  }
  return new ConnectionClosedError(
    `Connection to ${peer} ${local ? "was closed" : "failed"}: ${describeError(reason)}`,
    { cause: reason },
  );
}
