/**
 * TCP for Node: `tcpConnect` builds a `Connect` to a fixed peer, `tcpListen` a `Listen` on a host
 * and port, both on `node:net`, producing sockets that follow `src/socket.ts`.
 *
 * @module
 */

import * as net from "node:net";
import { ConnectError, InvalidArgumentError, TransportError } from "../../src/errors.ts";
import { watchDeadline } from "../../src/deadline.ts";
import type { Connect, ConnectOptions, Listen, Socket, SocketListener } from "../../src/socket.ts";
import {
  checkTcpConnectOptions,
  checkTcpListenOptions,
  connectTimeout,
  formatHostPort,
  type TcpConnectOptions,
  type TcpListenOptions,
} from "../tcp-options.ts";
import { errorCode, wrapNodeSocket } from "./node-socket.ts";

export type { TcpConnectOptions, TcpListenOptions, TcpSocketOptions } from "../tcp-options.ts";

/** A `Connect` that opens TCP connections to `host:port`. */
export function tcpConnect(options: TcpConnectOptions): Connect {
  const checked = checkTcpConnectOptions(options, "tcpConnect");
  const { host, port } = checked;
  const target = `tcp://${formatHostPort(host, port)}`;

  return (connectOptions?: ConnectOptions) =>
    new Promise<Socket>((resolve, reject) => {
      const timeoutMs = connectTimeout(connectOptions?.timeoutMs, checked.timeoutMs, target);
      const signal = connectOptions?.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const socket = net.connect({
        host,
        port,
        allowHalfOpen: false,
        noDelay: checked.noDelay,
        keepAlive: checked.keepAlive,
        keepAliveInitialDelay: checked.keepAliveInitialDelayMs ?? 0,
        writableHighWaterMark: checked.highWaterMark,
      } as net.NetConnectOpts);
      const fail = (error: unknown) => {
        socket.off("connect", onConnect);
        socket.off("error", onError);
        socket.on("error", () => {}); // a late error from the destroyed socket is not news
        socket.destroy();
        reject(error);
      };
      const onError = (error: Error) => {
        dispose();
        const code = errorCode(error);
        fail(
          new ConnectError(
            `connect to ${target} failed${code ? ` (${code})` : ""}: ${error.message}`,
            { cause: error },
          ),
        );
      };
      const onConnect = () => {
        dispose();
        socket.off("error", onError);
        resolve(
          wrapNodeSocket(socket, { transport: "tcp", closeTimeoutMs: checked.closeTimeoutMs }),
        );
      };
      socket.once("connect", onConnect);
      socket.once("error", onError);
      const dispose = watchDeadline({ timeoutMs, signal }, `connect to ${target}`, fail);
    });
}

/** A `Listen` that accepts TCP connections on `host:port` (port 0 picks a free port). */
export function tcpListen(options: TcpListenOptions = {}): Listen {
  const checked = checkTcpListenOptions(options, "tcpListen");
  const { host, port, backlog } = checked;

  return (onSocket) =>
    new Promise<SocketListener>((resolve, reject) => {
      if (typeof onSocket !== "function") {
        throw new InvalidArgumentError(`tcpListen: onSocket must be a function`);
      }
      const server = net.createServer({
        allowHalfOpen: false,
        pauseOnConnect: false,
        noDelay: checked.noDelay,
        keepAlive: checked.keepAlive,
        keepAliveInitialDelay: checked.keepAliveInitialDelayMs ?? 0,
        highWaterMark: checked.highWaterMark,
      } as net.ServerOpts, (raw) => {
        const socket = wrapNodeSocket(raw, {
          transport: "tcp",
          closeTimeoutMs: checked.closeTimeoutMs,
        });
        try {
          onSocket(socket);
        } catch (error) {
          socket.close(error);
        }
      });
      const onListenError = (error: Error) => {
        const code = errorCode(error);
        reject(
          new TransportError(
            `listen on tcp://${formatHostPort(host, port)} failed${code ? ` (${code})` : ""}: ` +
              error.message,
            { cause: error },
          ),
        );
      };
      server.once("error", onListenError);
      server.listen({ host, port, backlog }, () => {
        server.off("error", onListenError);
        // Accept errors (EMFILE, ...) after binding are transient: Node keeps accepting.
        server.on("error", () => {});
        const bound = server.address() as net.AddressInfo;
        let closing: Promise<void> | undefined;
        resolve({
          address: {
            host: bound.address,
            port: bound.port,
            url: `tcp://${formatHostPort(bound.address, bound.port)}`,
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
