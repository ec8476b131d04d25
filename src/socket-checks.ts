/**
 * The argument checks every `Socket` implementation makes (Node, Deno, WebSocket, WinterTC and
 * WebSocket-over-`Socket`): one sink per socket, and writes of bytes only, with the same errors
 * everywhere. Web-platform only.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";
import type { SocketInfo, SocketSink } from "./socket.ts";

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

/** Throws `InvalidArgumentError` unless `chunk` is a `Uint8Array` (what `Socket.write` takes). */
export function checkWriteChunk(info: SocketInfo, chunk: unknown): asserts chunk is Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `write on ${info.transport} socket ${info.remoteAddress}: expected a Uint8Array, ` +
        `received ${chunk === null ? "null" : typeof chunk}`,
    );
  }
}
