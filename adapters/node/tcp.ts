/**
 * TCP for Node: `tcpConnect` builds a `Connect` to a fixed peer, `tcpListen` a `Listen` on a host
 * and port, both on `node:net`, producing sockets that follow `src/socket.ts`.
 *
 * @module
 */

import * as net from "node:net";
import { InvalidArgumentError } from "../../src/errors.ts";
import type { Connect, Listen } from "../../src/socket.ts";
import { handOverAccepted } from "../accepted-socket.ts";
import {
  checkTcpConnectOptions,
  checkTcpListenOptions,
  formatHostPort,
  type TcpConnectOptions,
  type TcpListenOptions,
  type TcpTuning,
} from "../tcp-options.ts";
import { DirectReads } from "./direct-reads.ts";
import { wrapNodeSocket } from "./node-socket.ts";
import { bindNodeServer, openNodeConnection } from "./node-endpoint.ts";

export type { TcpConnectOptions, TcpListenOptions, TcpSocketOptions } from "../tcp-options.ts";

/** `net.connect` / `net.createServer` options for validated tuning. */
export function nodeTcpOptions(tuning: TcpTuning) {
  return {
    allowHalfOpen: false,
    noDelay: tuning.noDelay,
    keepAlive: tuning.keepAlive,
    keepAliveInitialDelay: tuning.keepAliveInitialDelayMs ?? 0,
  };
}

/** A `Connect` that opens TCP connections to `host:port`. */
export function tcpConnect(options: TcpConnectOptions): Connect {
  const checked = checkTcpConnectOptions(options, "tcpConnect");
  const target = `tcp://${formatHostPort(checked.host, checked.port)}`;
  return async (connectOptions) => {
    const directReads = new DirectReads();
    const socket = await openNodeConnection(
      target,
      connectOptions,
      checked.timeoutMs,
      "connect",
      () => ({
        socket: net.connect({
          onread: directReads.options,
          host: checked.host,
          port: checked.port,
          ...nodeTcpOptions(checked),
          writableHighWaterMark: checked.highWaterMark,
        } as net.NetConnectOpts),
      }),
    );
    return wrapNodeSocket(socket, {
      transport: "tcp",
      closeTimeoutMs: checked.closeTimeoutMs,
      directReads,
    });
  };
}

/**
 * A `Listen` that accepts TCP connections on `host:port` (port 0 picks a free port), with a listen
 * backlog of `options.backlog` (default 4096, see `DEFAULT_NODE_LISTEN_BACKLOG`).
 */
export function tcpListen(options: TcpListenOptions = {}): Listen {
  const checked = checkTcpListenOptions(options, "tcpListen");
  return (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(new InvalidArgumentError(`tcpListen: onSocket must be a function`));
    }
    const server = net.createServer(
      { ...nodeTcpOptions(checked), highWaterMark: checked.highWaterMark } as net.ServerOpts,
      (raw) => {
        const socket = wrapNodeSocket(raw, {
          transport: "tcp",
          closeTimeoutMs: checked.closeTimeoutMs,
        });
        handOverAccepted(onSocket, socket);
      },
    );
    return bindNodeServer(server, "tcp", checked);
  };
}
