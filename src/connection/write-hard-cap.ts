/**
 * The write hard cap: the bound on bytes queued for a peer (held by the writer plus buffered in
 * the socket) above which the peer is not reading, a slow consumer the connection closes with a
 * `LimitError`. A socket whose `bufferedAmount` is not a finite number (an adapter over a
 * WebSocket that lacks the property reads `undefined`, and the sum is NaN) cannot be held to the
 * cap: that is an error too, a `TransportError` naming the value, rather than a cap that never
 * trips or a "NaN bytes" slow-consumer message.
 *
 * @module
 */

import { LimitError, TransportError } from "../errors.ts";

/**
 * Why `queued` bytes for `peer` cannot go on (over `cap`, or not a byte count because the socket
 * reported `bufferedAmount`), or undefined while they are within the cap.
 */
export function writeHardCapError(
  queued: number,
  cap: number,
  peer: string,
  bufferedAmount: number,
): TransportError | undefined {
  // `NaN <= cap` is false and `Infinity` is no byte count: neither may pass as "under the cap"
  // nor be reported as a slow consumer; the socket adapter is at fault.
  if (!Number.isFinite(queued)) {
    return new TransportError(
      `Writing to ${peer} failed: the socket reports ${String(bufferedAmount)} bytes buffered, ` +
        `which is not a byte count, so the write hard cap of ${cap} bytes cannot be enforced`,
    );
  }
  if (queued <= cap) return undefined;
  return new LimitError(
    `Writing to ${peer} failed: ${queued} bytes are queued for a peer that is not reading, ` +
      `above the write hard cap of ${cap} bytes (slow consumer)`,
  );
}
