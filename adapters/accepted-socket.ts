/**
 * How every listener (Node and Deno; TCP, TLS, WebSocket) hands an accepted socket to its
 * `Listen` callback: a callback that throws closes that socket with the error it threw, and the
 * listener keeps accepting. Web-platform only.
 *
 * @module
 */

import type { AcceptContext, Socket } from "../src/socket.ts";

/** Calls `onSocket(socket, context)`; if it throws, closes `socket` with what it threw. */
export function handOverAccepted(
  onSocket: (socket: Socket, context?: AcceptContext) => void,
  socket: Socket,
  context?: AcceptContext,
): void {
  try {
    if (context === undefined) onSocket(socket);
    else onSocket(socket, context);
  } catch (error) {
    socket.close(error);
  }
}
