/**
 * `winterTcConnect`: a `Connect` over any WinterTC-style `connect(address, options)` function
 * (Cloudflare Workers' `connect` from `cloudflare:sockets`, or a runtime's equivalent). The
 * deadline covers `opened`; see `wintertc-socket.ts` for the socket semantics.
 *
 * @module
 */

import { ConnectError, describeError, InvalidArgumentError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import { isValidTimeout, watchDeadline } from "../../src/deadline.ts";
import type { Connect, ConnectOptions, Socket } from "../../src/socket.ts";
import { defaultCloseTimeoutMs, formatHostPort } from "../tcp-options.ts";
import type { WinterTcOpenedInfo, WinterTcSocketLike } from "./wintertc-api.ts";
import { wrapWinterTcSocket } from "./wintertc-socket.ts";

/** The address argument of a WinterTC `connect` (Cloudflare's `SocketAddress`). */
export interface WinterTcAddress {
  readonly hostname: string;
  readonly port: number;
}

/** The options argument of a WinterTC `connect` (Cloudflare's `SocketOptions`). */
export interface WinterTcSocketOptionsArg {
  readonly secureTransport: "off" | "on";
  /** Always false: Ferry does not use half-open connections. */
  readonly allowHalfOpen: false;
}

/** A WinterTC `connect` function: returns at once; the socket's `opened` says when it is up. */
export type WinterTcConnectFunction = (
  address: WinterTcAddress,
  options: WinterTcSocketOptionsArg,
) => WinterTcSocketLike;

export interface WinterTcConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Ask the runtime for TLS (`secureTransport: "on"`); the socket's transport is then `tls`. */
  readonly tls?: boolean;
  /** Buffered outbound bytes above which `write` returns false (default `writeHighWaterMark`). */
  readonly highWaterMark?: number;
  /** Default deadline for connecting when the caller gives none (default `connectTimeoutMs`). */
  readonly timeoutMs?: number;
  /** Deadline for a graceful close to finish before the socket is cut off (default 30 s). */
  readonly closeTimeoutMs?: number;
}

function invalid(message: string): never {
  throw new InvalidArgumentError(`winterTcConnect: ${message}`);
}

/** A `Connect` that opens connections to `host:port` through `connectFn`. */
export function winterTcConnect(
  connectFn: WinterTcConnectFunction,
  options: WinterTcConnectOptions,
): Connect {
  if (typeof connectFn !== "function") {
    invalid(`connectFn must be a function, received ${typeof connectFn}`);
  }
  const { host, port } = options;
  if (typeof host !== "string" || host.length === 0) {
    invalid(`host must be a non-empty string, received ${String(host)}`);
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    invalid(`port must be an integer in 1..65535, received ${String(port)}`);
  }
  const highWaterMark = options.highWaterMark ?? defaultLimits.writeHighWaterMark;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) {
    invalid(`highWaterMark must be a non-negative integer, received ${String(highWaterMark)}`);
  }
  const defaultTimeoutMs = options.timeoutMs ?? defaultLimits.connectTimeoutMs;
  const closeTimeoutMs = options.closeTimeoutMs ?? defaultCloseTimeoutMs;
  for (
    const [name, value] of [["timeoutMs", defaultTimeoutMs], ["closeTimeoutMs", closeTimeoutMs]]
  ) {
    if (!isValidTimeout(value)) {
      invalid(`${name} must be a finite number ≥ 0, received ${String(value)}`);
    }
  }
  const target = formatHostPort(host, port);
  const transport = options.tls ? "tls" : "tcp";
  const connectOptions: WinterTcSocketOptionsArg = {
    secureTransport: options.tls ? "on" : "off",
    allowHalfOpen: false,
  };

  return (callOptions?: ConnectOptions) =>
    new Promise<Socket>((resolve, reject) => {
      const timeoutMs = callOptions?.timeoutMs ?? defaultTimeoutMs;
      if (!isValidTimeout(timeoutMs)) {
        throw new InvalidArgumentError(
          `connect to ${target}: timeoutMs must be a finite number ≥ 0, received ${timeoutMs}`,
        );
      }
      const signal = callOptions?.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let socket: WinterTcSocketLike;
      try {
        socket = connectFn({ hostname: host, port }, connectOptions);
      } catch (error) {
        reject(
          new ConnectError(`connect to ${target} failed: ${describeError(error)}`, {
            cause: error,
          }),
        );
        return;
      }
      // Either promise may reject after we gave up; neither may go unhandled.
      Promise.resolve(socket.closed).catch(() => {});
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        dispose();
        try {
          Promise.resolve(socket.close()).catch(() => {});
        } catch {
          // already closed
        }
        reject(error);
      };
      const dispose = watchDeadline({ timeoutMs, signal }, `connect to ${target}`, fail);
      Promise.resolve(socket.opened).then(
        (opened: WinterTcOpenedInfo | undefined) => {
          if (settled) return;
          settled = true;
          dispose();
          const localAddress = opened?.localAddress ?? undefined;
          resolve(wrapWinterTcSocket(socket, {
            transport,
            remoteAddress: opened?.remoteAddress || target,
            ...(localAddress ? { localAddress } : {}),
            highWaterMark,
            closeTimeoutMs,
          }));
        },
        (error: unknown) =>
          fail(
            new ConnectError(`connect to ${target} failed: ${describeError(error)}`, {
              cause: error,
            }),
          ),
      );
    });
}
