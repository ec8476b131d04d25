/**
 * TCP for Deno: `tcpConnect` builds a `Connect` to a fixed peer on `Deno.connect`, `tcpListen` a
 * `Listen` on `Deno.listen`; same options and semantics as the Node adapter, except
 * `keepAliveInitialDelayMs`, which Deno cannot set (passing it is an error, not silently ignored).
 *
 * @module
 */

import { ConnectError, InvalidArgumentError, TransportError } from "../../src/errors.ts";
import { watchDeadline } from "../../src/deadline.ts";
import type { Connect, ConnectOptions, Listen, SocketListener } from "../../src/socket.ts";
import {
  checkTcpConnectOptions,
  checkTcpListenOptions,
  connectTimeout,
  formatHostPort,
  type TcpConnectOptions,
  type TcpListenOptions,
  type TcpTuning,
} from "../tcp-options.ts";
import {
  type DenoApi,
  denoApi,
  denoErrorCode,
  type DenoListener,
  type DenoTcpConn,
  isClosedResourceError,
} from "./deno-api.ts";
import { wrapDenoConn } from "./deno-socket.ts";

export type { TcpConnectOptions, TcpListenOptions, TcpSocketOptions } from "../tcp-options.ts";

function refuseKeepAliveDelay(tuning: TcpTuning, what: string): void {
  if (tuning.keepAliveInitialDelayMs !== undefined) {
    throw new InvalidArgumentError(
      `${what}: keepAliveInitialDelayMs is not supported by Deno's TCP API, received ` +
        `${tuning.keepAliveInitialDelayMs}`,
    );
  }
}

function wrap(deno: DenoApi, conn: DenoTcpConn, tuning: TcpTuning) {
  conn.setNoDelay(tuning.noDelay);
  conn.setKeepAlive(tuning.keepAlive);
  return wrapDenoConn(deno, conn, {
    transport: "tcp",
    highWaterMark: tuning.highWaterMark,
    closeTimeoutMs: tuning.closeTimeoutMs,
  });
}

/** A `Connect` that opens TCP connections to `host:port`. */
export function tcpConnect(options: TcpConnectOptions): Connect {
  const checked = checkTcpConnectOptions(options, "tcpConnect");
  refuseKeepAliveDelay(checked, "tcpConnect");
  const deno = denoApi();
  const { host, port } = checked;
  const target = `tcp://${formatHostPort(host, port)}`;

  return async (connectOptions?: ConnectOptions) => {
    const timeoutMs = connectTimeout(connectOptions?.timeoutMs, checked.timeoutMs, target);
    const signal = connectOptions?.signal;
    signal?.throwIfAborted();
    const attempt = new AbortController();
    let expired: { error: unknown } | undefined;
    const dispose = watchDeadline({ timeoutMs, signal }, `connect to ${target}`, (error) => {
      expired = { error };
      attempt.abort(error);
    });
    let conn: DenoTcpConn;
    try {
      conn = await deno.connect({ hostname: host, port, transport: "tcp", signal: attempt.signal });
    } catch (error) {
      if (expired) throw expired.error;
      const code = denoErrorCode(error);
      throw new ConnectError(
        `connect to ${target} failed${code ? ` (${code})` : ""}: ${(error as Error)?.message}`,
        { cause: error },
      );
    } finally {
      dispose();
    }
    if (expired) {
      conn.close();
      throw expired.error;
    }
    return wrap(deno, conn, checked);
  };
}

/** A `Listen` that accepts TCP connections on `host:port` (port 0 picks a free port). */
export function tcpListen(options: TcpListenOptions = {}): Listen {
  const checked = checkTcpListenOptions(options, "tcpListen");
  refuseKeepAliveDelay(checked, "tcpListen");
  const deno = denoApi();
  const { host, port, backlog } = checked;

  return (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(new InvalidArgumentError(`tcpListen: onSocket must be a function`));
    }
    let listener: DenoListener<DenoTcpConn>;
    try {
      listener = deno.listen({ hostname: host, port, transport: "tcp", tcpBacklog: backlog });
    } catch (error) {
      const code = denoErrorCode(error);
      return Promise.reject(
        new TransportError(
          `listen on tcp://${formatHostPort(host, port)} failed${code ? ` (${code})` : ""}: ` +
            (error as Error)?.message,
          { cause: error },
        ),
      );
    }
    let closing = false;
    const accepting = (async () => {
      while (!closing) {
        let conn: DenoTcpConn;
        try {
          conn = await listener.accept();
        } catch (error) {
          if (closing || isClosedResourceError(deno, error)) return;
          // Transient accept failures (EMFILE, ECONNABORTED): back off briefly, keep serving.
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        if (closing) {
          conn.close();
          return;
        }
        const socket = wrap(deno, conn, checked);
        try {
          onSocket(socket);
        } catch (error) {
          socket.close(error);
        }
      }
    })();
    const { hostname, port: boundPort } = listener.addr;
    let closed: Promise<void> | undefined;
    const socketListener: SocketListener = {
      address: {
        host: hostname,
        port: boundPort,
        url: `tcp://${formatHostPort(hostname, boundPort)}`,
      },
      close: () => {
        closed ??= (async () => {
          closing = true;
          listener.close();
          // The port is released once the pending accept has been rejected.
          await accepting;
        })();
        return closed;
      },
    };
    return Promise.resolve(socketListener);
  };
}
