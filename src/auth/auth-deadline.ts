/**
 * The authentication deadline of one server-side connection, one home for both gates (Ferry's
 * shared-secret one and Spark's SASL one): a connection that has not authenticated within
 * `authTimeoutMs` of opening is closed, so a silent or slow peer cannot hold a connection (and
 * its session state) open without credentials.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../clock.ts";
import type { Peer } from "../responder/peer.ts";
import { AuthError } from "../errors.ts";

/**
 * Starts `client`'s deadline. When it fires, `expire()` says whether the exchange was still
 * pending (and marks it failed); if so, `onFailure` hears why and the connection closes with that
 * reason: "Closing the connection from <address>: it did not <what> within <timeoutMs> ms". The
 * timer runs on `clock` (the gate's) and is cleared when the connection closes first.
 */
export function startAuthDeadline(
  clock: Clock,
  client: Peer,
  timeoutMs: number,
  what: string,
  expire: () => boolean,
  onFailure: ((remoteAddress: string, reason: unknown) => void) | undefined,
): TimerHandle {
  const timer = clock.setTimer(() => {
    if (!expire()) return;
    const reason = new AuthError(
      `Closing the connection from ${client.remoteAddress}: it did not ${what} within ${timeoutMs} ms`,
    );
    onFailure?.(client.remoteAddress, reason);
    client.close(reason).catch(() => {});
  }, timeoutMs);
  client.closed.then(() => clock.clearTimer(timer));
  return timer;
}
