/**
 * The argument checks every adapter's `Socket.attach` makes before taking a sink: one sink per
 * socket, and it must be an object. Web-platform only.
 *
 * @module
 */

import { InvalidArgumentError } from "../src/errors.ts";
import type { SocketInfo, SocketSink } from "../src/socket.ts";

/** Throws `InvalidArgumentError` unless `sink` may be attached to a socket that has `current`. */
export function checkAttach(
  info: SocketInfo,
  current: SocketSink | undefined,
  sink: SocketSink,
): void {
  if (current !== undefined) {
    throw new InvalidArgumentError(
      `attach on ${info.transport} socket ${info.remoteAddress}: already attached`,
    );
  }
  if (sink === null || typeof sink !== "object") {
    throw new InvalidArgumentError(
      `attach on ${info.transport} socket: expected a SocketSink, received ${typeof sink}`,
    );
  }
}
