/**
 * TCP for Deno: `tcpConnect` builds a `Connect` to a fixed peer on `Deno.connect`, `tcpListen` a
 * `Listen` on `Deno.listen`; same options and semantics as the Node adapter, except
 * `keepAliveInitialDelayMs`, which Deno cannot set (passing it is an error, not silently ignored).
 *
 * @module
 */

import { InvalidArgumentError, TransportError } from "../../src/errors.ts";
import type { Connect, ConnectOptions, Listen, Socket } from "../../src/socket.ts";
import {
  checkTcpConnectOptions,
  checkTcpListenOptions,
  formatHostPort,
  type TcpConnectOptions,
  type TcpListenOptions,
  type TcpTuning,
} from "../tcp-options.ts";
import {
  type DenoApi,
  denoApi,
  type DenoConn,
  denoErrorCode,
  type DenoTcpConn,
} from "./deno-api.ts";
import { wrapDenoConn } from "./deno-socket.ts";
import { closeQuietly, connectWithDeadline, serveListener } from "./deno-endpoint.ts";

export type { TcpConnectOptions, TcpListenOptions, TcpSocketOptions } from "../tcp-options.ts";

/** Throws when `keepAliveInitialDelayMs` is set: Deno's TCP API cannot honour it. */
export function refuseKeepAliveDelay(tuning: TcpTuning, what: string): void {
  if (tuning.keepAliveInitialDelayMs !== undefined) {
    throw new InvalidArgumentError(
      `${what}: keepAliveInitialDelayMs is not supported by Deno's TCP API, received ` +
        `${tuning.keepAliveInitialDelayMs}`,
    );
  }
}

/** Opens a tuned TCP connection; closes it if `signal` aborts before it is returned. */
export async function openTcp(
  deno: DenoApi,
  host: string,
  port: number,
  tuning: TcpTuning,
  signal: AbortSignal,
): Promise<DenoTcpConn> {
  const conn = await deno.connect({ hostname: host, port, transport: "tcp", signal });
  if (signal.aborted) {
    closeQuietly(conn);
    throw signal.reason;
  }
  conn.setNoDelay(tuning.noDelay);
  conn.setKeepAlive(tuning.keepAlive);
  return conn;
}

/** Wraps a Deno connection with the tuning's write and close settings. */
export function wrapTuned(deno: DenoApi, conn: DenoConn, tuning: TcpTuning, transport: string) {
  return wrapDenoConn(deno, conn, {
    transport,
    highWaterMark: tuning.highWaterMark,
    closeTimeoutMs: tuning.closeTimeoutMs,
  });
}

/** A `Connect` that opens TCP connections to `host:port`. */
export function tcpConnect(options: TcpConnectOptions): Connect {
  const checked = checkTcpConnectOptions(options, "tcpConnect");
  refuseKeepAliveDelay(checked, "tcpConnect");
  const deno = denoApi();
  const target = `tcp://${formatHostPort(checked.host, checked.port)}`;
  return async (connectOptions?: ConnectOptions): Promise<Socket> => {
    const conn = await connectWithDeadline(
      target,
      connectOptions,
      checked.timeoutMs,
      (signal) => openTcp(deno, checked.host, checked.port, checked, signal),
    );
    return wrapTuned(deno, conn, checked, "tcp");
  };
}

/** A `Listen` that accepts TCP connections on `host:port` (port 0 picks a free port). */
export function tcpListen(options: TcpListenOptions = {}): Listen {
  const checked = checkTcpListenOptions(options, "tcpListen");
  refuseKeepAliveDelay(checked, "tcpListen");
  const deno = denoApi();
  return (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(new InvalidArgumentError(`tcpListen: onSocket must be a function`));
    }
    let listener;
    try {
      listener = deno.listen({
        hostname: checked.host,
        port: checked.port,
        transport: "tcp",
        tcpBacklog: checked.backlog,
      });
    } catch (error) {
      return Promise.reject(listenError("tcp", checked.host, checked.port, error));
    }
    return Promise.resolve(serveListener(deno, listener, "tcp", onSocket, (conn) => {
      conn.setNoDelay(checked.noDelay);
      conn.setKeepAlive(checked.keepAlive);
    }, (conn) => wrapTuned(deno, conn, checked, "tcp")));
  };
}

/** The error for a listener that could not bind. */
export function listenError(scheme: string, host: string, port: number, error: unknown) {
  const code = denoErrorCode(error);
  return new TransportError(
    `listen on ${scheme}://${formatHostPort(host, port)} failed${code ? ` (${code})` : ""}: ` +
      (error as Error)?.message,
    { cause: error },
  );
}
