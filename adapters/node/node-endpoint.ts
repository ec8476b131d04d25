/**
 * The connect and listen mechanics TCP and TLS share on Node: waiting for a socket to be ready
 * under a deadline and an AbortSignal (destroying it on failure, wrapping OS errors in
 * `ConnectError`), and binding a server (reporting bind errors, releasing the port on close).
 *
 * @module
 */

import type * as net from "node:net";
import { ConnectError, TransportError } from "../../src/errors.ts";
import { watchDeadline } from "../../src/deadline.ts";
import type { ConnectOptions, SocketListener } from "../../src/socket.ts";
import { connectTimeout, formatHostPort } from "../tcp-options.ts";
import { errorCode } from "./node-socket.ts";

/**
 * Resolves with `socket` once it emits `readyEvent`; rejects with `ConnectError` on its (or an
 * `underlying` socket's) error, `TimeoutError` after the deadline, or the signal's reason, and
 * destroys `socket`. An underlying TCP socket is closed by the TLS socket that took it over;
 * destroying it directly would close the handle under Node's TLSWrap.
 */
export function openNodeConnection<S extends net.Socket>(
  target: string,
  connectOptions: ConnectOptions | undefined,
  defaultTimeoutMs: number,
  readyEvent: "connect" | "secureConnect",
  open: () => { socket: S; underlying?: net.Socket },
): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const timeoutMs = connectTimeout(connectOptions?.timeoutMs, defaultTimeoutMs, target);
    const signal = connectOptions?.signal;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const { socket, underlying } = open();
    const all = underlying ? [socket, underlying] : [socket];
    const onError = (error: Error) => {
      const code = errorCode(error);
      fail(
        new ConnectError(
          `connect to ${target} failed${code ? ` (${code})` : ""}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    const onReady = () => {
      dispose();
      for (const s of all) s.off("error", onError);
      resolve(socket);
    };
    const fail = (error: unknown) => {
      dispose();
      socket.off(readyEvent, onReady);
      for (const s of all) {
        s.off("error", onError);
        s.on("error", () => {}); // late errors from a destroyed socket are not news
      }
      socket.destroy();
      reject(error);
    };
    socket.once(readyEvent, onReady);
    for (const s of all) s.once("error", onError);
    const dispose = watchDeadline({ timeoutMs, signal }, `connect to ${target}`, fail);
  });
}

/**
 * The listen backlog when the caller gives none: large enough for a burst of ~1000 simultaneous
 * connects, which overflow Node's default of 511 (the kernel then drops SYNs and the clients
 * retransmit them ~1 s later). The kernel caps it at `net.core.somaxconn`.
 */
export const DEFAULT_NODE_LISTEN_BACKLOG = 4096;

/**
 * Binds `server` and returns a `SocketListener` whose close stops accepting and frees the port.
 * `bind.backlog` defaults to {@linkcode DEFAULT_NODE_LISTEN_BACKLOG}.
 */
export function bindNodeServer(
  server: net.Server,
  scheme: string,
  bind: { readonly host: string; readonly port: number; readonly backlog?: number },
): Promise<SocketListener> {
  return new Promise<SocketListener>((resolve, reject) => {
    const onListenError = (error: Error) => {
      const code = errorCode(error);
      reject(
        new TransportError(
          `listen on ${scheme}://${formatHostPort(bind.host, bind.port)} failed` +
            `${code ? ` (${code})` : ""}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    server.once("error", onListenError);
    const backlog = bind.backlog ?? DEFAULT_NODE_LISTEN_BACKLOG;
    server.listen({ host: bind.host, port: bind.port, backlog }, () => {
      server.off("error", onListenError);
      // Accept errors (EMFILE, ...) after binding are transient: Node keeps accepting.
      server.on("error", () => {});
      const bound = server.address() as net.AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        address: {
          host: bound.address,
          port: bound.port,
          url: `${scheme}://${formatHostPort(bound.address, bound.port)}`,
        },
        close: () => {
          // server.close's callback waits for accepted sockets; the port is released at once.
          closing ??= new Promise<void>((done) => {
            server.close();
            setImmediate(done);
          });
          return closing;
        },
      });
    });
  });
}
