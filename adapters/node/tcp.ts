/**
 * TCP for Node: `tcpConnect` builds a `Connect` to a fixed peer, `tcpListen` a `Listen` on a host
 * and port, both on `node:net`, producing sockets that follow `src/socket.ts`.
 *
 * @module
 */

import * as net from "node:net";
import { ConnectError, InvalidArgumentError, TransportError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import { isValidTimeout, watchDeadline } from "../../src/deadline.ts";
import type { Connect, ConnectOptions, Listen, Socket, SocketListener } from "../../src/socket.ts";
import { errorCode, formatHostPort, wrapNodeSocket } from "./node-socket.ts";

/** Socket tuning shared by connect and listen. */
export interface TcpSocketOptions {
  /** Disable Nagle's algorithm (default true: Ferry writes whole frames). */
  readonly noDelay?: boolean;
  /** Enable TCP keep-alive probes (default true). */
  readonly keepAlive?: boolean;
  /** Idle time before the first keep-alive probe, in ms (OS default otherwise). */
  readonly keepAliveInitialDelayMs?: number;
  /** Buffered outbound bytes above which `write` returns false (default `writeHighWaterMark`). */
  readonly highWaterMark?: number;
  /** Deadline for a graceful close to finish before the socket is destroyed (default 30 s). */
  readonly closeTimeoutMs?: number;
}

export interface TcpConnectOptions extends TcpSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Default deadline for connecting when the caller gives none (default `connectTimeoutMs`). */
  readonly timeoutMs?: number;
}

export interface TcpListenOptions extends TcpSocketOptions {
  /** Interface to bind (default `127.0.0.1`). */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  readonly port?: number;
  /** Pending-connection queue length (OS default otherwise). */
  readonly backlog?: number;
}

function checkPort(port: unknown, what: string, allowZero: boolean): number {
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) ||
    port > 65535
  ) {
    throw new InvalidArgumentError(
      `${what}: port must be an integer in ${allowZero ? 0 : 1}..65535, received ${String(port)}`,
    );
  }
  return port;
}

function checkTuning(options: TcpSocketOptions, what: string) {
  const highWaterMark = options.highWaterMark ?? defaultLimits.writeHighWaterMark;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) {
    throw new InvalidArgumentError(
      `${what}: highWaterMark must be a non-negative integer, received ${highWaterMark}`,
    );
  }
  const delay = options.keepAliveInitialDelayMs;
  if (delay !== undefined && !isValidTimeout(delay)) {
    throw new InvalidArgumentError(
      `${what}: keepAliveInitialDelayMs must be a finite number ≥ 0, received ${delay}`,
    );
  }
  if (!isValidTimeout(options.closeTimeoutMs)) {
    throw new InvalidArgumentError(
      `${what}: closeTimeoutMs must be a finite number ≥ 0, received ${options.closeTimeoutMs}`,
    );
  }
  return {
    highWaterMark,
    noDelay: options.noDelay ?? true,
    keepAlive: options.keepAlive ?? true,
    keepAliveInitialDelay: delay ?? 0,
    closeTimeoutMs: options.closeTimeoutMs,
  };
}

/** A `Connect` that opens TCP connections to `host:port`. */
export function tcpConnect(options: TcpConnectOptions): Connect {
  const { host } = options;
  if (typeof host !== "string" || host === "") {
    throw new InvalidArgumentError(`tcpConnect: host must be a non-empty string, received ${host}`);
  }
  const port = checkPort(options.port, "tcpConnect", false);
  const tuning = checkTuning(options, "tcpConnect");
  const defaultTimeoutMs = options.timeoutMs ?? defaultLimits.connectTimeoutMs;
  if (!isValidTimeout(defaultTimeoutMs)) {
    throw new InvalidArgumentError(
      `tcpConnect: timeoutMs must be a finite number ≥ 0, received ${defaultTimeoutMs}`,
    );
  }
  const target = `tcp://${formatHostPort(host, port)}`;

  return (connectOptions?: ConnectOptions) =>
    new Promise<Socket>((resolve, reject) => {
      const timeoutMs = connectOptions?.timeoutMs ?? defaultTimeoutMs;
      if (!isValidTimeout(timeoutMs)) {
        reject(
          new InvalidArgumentError(
            `connect to ${target}: timeoutMs must be a finite number ≥ 0, received ${timeoutMs}`,
          ),
        );
        return;
      }
      if (connectOptions?.signal?.aborted) {
        reject(connectOptions.signal.reason);
        return;
      }
      const socket = net.connect({
        host,
        port,
        allowHalfOpen: false,
        noDelay: tuning.noDelay,
        keepAlive: tuning.keepAlive,
        keepAliveInitialDelay: tuning.keepAliveInitialDelay,
        writableHighWaterMark: tuning.highWaterMark,
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
          wrapNodeSocket(socket, { transport: "tcp", closeTimeoutMs: tuning.closeTimeoutMs }),
        );
      };
      socket.once("connect", onConnect);
      socket.once("error", onError);
      const dispose = watchDeadline(
        { timeoutMs, signal: connectOptions?.signal },
        `connect to ${target}`,
        fail,
      );
    });
}

/** A `Listen` that accepts TCP connections on `host:port` (port 0 picks a free port). */
export function tcpListen(options: TcpListenOptions = {}): Listen {
  const host = options.host ?? "127.0.0.1";
  const port = checkPort(options.port ?? 0, "tcpListen", true);
  const tuning = checkTuning(options, "tcpListen");
  const backlog = options.backlog;
  if (backlog !== undefined && (!Number.isInteger(backlog) || backlog < 0)) {
    throw new InvalidArgumentError(
      `tcpListen: backlog must be a non-negative integer, received ${backlog}`,
    );
  }

  return (onSocket) =>
    new Promise<SocketListener>((resolve, reject) => {
      if (typeof onSocket !== "function") {
        throw new InvalidArgumentError(`tcpListen: onSocket must be a function`);
      }
      const server = net.createServer({
        allowHalfOpen: false,
        pauseOnConnect: false,
        noDelay: tuning.noDelay,
        keepAlive: tuning.keepAlive,
        keepAliveInitialDelay: tuning.keepAliveInitialDelay,
        highWaterMark: tuning.highWaterMark,
      } as net.ServerOpts, (raw) => {
        const socket = wrapNodeSocket(raw, {
          transport: "tcp",
          closeTimeoutMs: tuning.closeTimeoutMs,
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
        const boundHost = bound.address;
        let closing: Promise<void> | undefined;
        resolve({
          address: {
            host: boundHost,
            port: bound.port,
            url: `tcp://${formatHostPort(boundHost, bound.port)}`,
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
