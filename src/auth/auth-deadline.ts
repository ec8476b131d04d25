/**
 * The authentication deadline of one server-side connection, one home for both gates (Ferry's
 * shared-secret one and Spark's SASL one): a connection that has not authenticated within
 * `authTimeoutMs` of opening is closed, so a silent or slow peer cannot hold a connection (and
 * its session state) open without credentials.
 *
 * @module
 */

import type { Peer } from "../responder/peer.ts";
import { unrefTimer } from "../deadline.ts";
import { AuthError } from "../errors.ts";

/**
 * Starts `client`'s deadline. When it fires, `expire()` says whether the exchange was still
 * pending (and marks it failed); if so, `onFailure` hears why and the connection closes with that
 * reason: "Closing the connection from <address>: it did not <what> within <timeoutMs> ms". The
 * timer never keeps the process alive and is cleared when the connection closes first.
 */
export function startAuthDeadline(
  client: Peer,
  timeoutMs: number,
  what: string,
  expire: () => boolean,
  onFailure: ((remoteAddress: string, reason: unknown) => void) | undefined,
): ReturnType<typeof setTimeout> {
  const timer = setTimeout(() => {
    if (!expire()) return;
    const reason = new AuthError(
      `Closing the connection from ${client.remoteAddress}: it did not ${what} within ${timeoutMs} ms`,
    );
    onFailure?.(client.remoteAddress, reason);
    client.close(reason).catch(() => {});
  }, timeoutMs);
  unrefTimer(timer);
  client.closed.then(() => clearTimeout(timer));
  return timer;
}
