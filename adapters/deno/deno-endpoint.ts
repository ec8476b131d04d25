/**
 * The connect and listen mechanics TCP and TLS share on Deno: one deadline and AbortSignal over
 * every step of opening a connection (failures wrapped in `ConnectError`), and an accept loop
 * that prepares each connection (e.g. a TLS handshake under a deadline) before handing it out.
 *
 * @module
 */

import { ConnectError, describeError, TransportError } from "../../src/errors.ts";
import { watchDeadline } from "../../src/deadline.ts";
import type { ConnectOptions, Socket, SocketListener } from "../../src/socket.ts";
import { handOverAccepted } from "../accepted-socket.ts";
import { connectTimeout, formatHostPort } from "../tcp-options.ts";
import {
  type DenoApi,
  type DenoConn,
  denoErrorCode,
  type DenoListener,
  isClosedResourceError,
} from "./deno-api.ts";

/**
 * Runs `attempt` with a signal that aborts at the deadline or with the caller's signal (the
 * attempt must release what it opened when that signal aborts or it fails). Rejects with the
 * `TimeoutError`, the caller's reason, or a `ConnectError` wrapping the attempt's failure.
 */
export async function connectWithDeadline<T>(
  target: string,
  connectOptions: ConnectOptions | undefined,
  defaultTimeoutMs: number,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeoutMs = connectTimeout(connectOptions?.timeoutMs, defaultTimeoutMs, target);
  const signal = connectOptions?.signal;
  signal?.throwIfAborted();
  const controller = new AbortController();
  let expired: { error: unknown } | undefined;
  const dispose = watchDeadline({ timeoutMs, signal }, `connect to ${target}`, (error) => {
    expired = { error };
    controller.abort(error);
  });
  try {
    return await attempt(controller.signal);
  } catch (error) {
    if (expired) throw expired.error;
    const code = denoErrorCode(error);
    throw new ConnectError(
      `connect to ${target} failed${code ? ` (${code})` : ""}: ${describeError(error)}`,
      { cause: error },
    );
  } finally {
    dispose();
  }
}

/** Closes a Deno resource that may already be closed. */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/**
 * Accepts connections from `listener` until closed: each goes through `prepare` (which may
 * reject to drop it; its signal aborts when the listener closes) and is then wrapped and handed
 * to `onSocket`. Closing the listener releases the port once the pending accept has ended.
 */
export function serveListener<C extends DenoConn>(
  deno: DenoApi,
  listener: DenoListener<C>,
  scheme: string,
  onSocket: (socket: Socket) => void,
  prepare: (conn: C, signal: AbortSignal) => void | Promise<void>,
  wrap: (conn: C) => Socket,
): SocketListener {
  const stop = new AbortController();
  const preparing = new Set<Promise<void>>();
  const admit = async (conn: C) => {
    try {
      await prepare(conn, stop.signal);
    } catch {
      closeQuietly(conn); // failed handshake, timeout, or the listener closed meanwhile
      return;
    }
    if (stop.signal.aborted) {
      closeQuietly(conn);
      return;
    }
    const socket = wrap(conn);
    handOverAccepted(onSocket, socket);
  };
  const accepting = (async () => {
    while (!stop.signal.aborted) {
      let conn: C;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stop.signal.aborted || isClosedResourceError(deno, error)) return;
        // Transient accept failures (EMFILE, ECONNABORTED): back off briefly, keep serving.
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const admitted = admit(conn);
      preparing.add(admitted);
      void admitted.finally(() => preparing.delete(admitted));
    }
  })();
  const { hostname, port } = listener.addr;
  let closed: Promise<void> | undefined;
  return {
    address: { host: hostname, port, url: `${scheme}://${formatHostPort(hostname, port)}` },
    close: () => {
      closed ??= (async () => {
        stop.abort(
          new TransportError(`listener ${scheme}://${formatHostPort(hostname, port)} closed`),
        );
        closeQuietly(listener);
        await Promise.all([accepting, ...preparing]);
      })();
      return closed;
    },
  };
}
