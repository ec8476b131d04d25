/**
 * What the runtime gateway runners (`adapters/node/gateway.ts`, `adapters/deno/gateway.ts`) have
 * in common: the options they share, the running gateway they return, and how a `Gateway` is put
 * on a WebSocket listener. No runtime code here: each runner passes its own `tcpConnect` and
 * `webSocketListen`.
 *
 * @module
 */

import { Gateway } from "../src/gateway/gateway.ts";
import type { GatewayOptions } from "../src/gateway/gateway-options.ts";
import type { Connect, Listen, SocketListener } from "../src/socket.ts";
import type { TcpConnectOptions } from "./tcp-options.ts";
import type { WebSocketListenCommonOptions } from "./websocket-listen-options.ts";

/** Options every runtime's gateway runner accepts; runners add their own. */
export interface GatewayRunnerOptions extends Omit<GatewayOptions, "connect"> {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port (0 = pick a free one). Default 0. */
  readonly port?: number;
  /** WebSocket ping interval towards browsers (0 = none). Default 15 000 ms. */
  readonly pingIntervalMs?: number;
  /** Serves plain HTTP requests on the same port (static files, health). Default: 426. */
  readonly onRequest?: (request: Request) => Response | Promise<Response>;
  /** How `{ host, port }` targets are reached. Default the runtime's `tcpConnect({ host, port })`. */
  readonly connect?: GatewayOptions["connect"];
}

/** A running gateway: the `Gateway` (stats), where it listens, and how to stop it. */
export interface RunningGateway {
  readonly gateway: Gateway;
  readonly address: SocketListener["address"];
  /** Stops listening, ends every session with 1001, closes backend connections. */
  close(): Promise<void>;
}

/**
 * In which order `RunningGateway.close` stops things: `"listener-first"` stops accepting, then
 * ends the sessions; `"sessions-first"` ends the sessions (browsers see 1001) before the listener,
 * for runtimes whose listener cannot stop without ending what it upgraded.
 */
export type GatewayCloseOrder = "listener-first" | "sessions-first";

/** The runner's `Gateway`: `{ host, port }` targets go through `tcpConnect` unless `connect`. */
export function runnerGateway(
  options: GatewayRunnerOptions,
  tcpConnect: (options: TcpConnectOptions) => Connect,
): Gateway {
  return new Gateway({
    ...options,
    connect: options.connect ??
      ((address) => tcpConnect({ host: address.host, port: address.port })),
  });
}

/** The listener options every runner passes: bind address, upgrade check, pings, plain HTTP. */
export function runnerListenOptions(
  options: GatewayRunnerOptions,
  gateway: Gateway,
): WebSocketListenCommonOptions {
  return {
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    // The listener lets every Origin through to `Gateway.allowUpgrade`, which has its own rules.
    allowedOrigins: ["*"],
    allowUpgrade: (request) => gateway.allowUpgrade(request),
    pingIntervalMs: options.pingIntervalMs ?? 15_000,
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  };
}

/**
 * Listens with `listen` and hands every upgraded socket to `gateway.accept` (a socket without an
 * upgrade request is closed). If listening fails the gateway is closed and the error rethrown.
 */
export async function runGateway(
  gateway: Gateway,
  listen: Listen,
  closeOrder: GatewayCloseOrder,
): Promise<RunningGateway> {
  let listener: SocketListener;
  try {
    listener = await listen((socket, context) => {
      if (context?.upgrade === undefined) socket.close(new Error("no upgrade request"));
      else gateway.accept(socket, context.upgrade);
    });
  } catch (error) {
    await gateway.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const stop = closeOrder === "listener-first"
    ? async () => {
      await listener.close();
      await gateway.close();
    }
    : async () => {
      await gateway.close();
      await listener.close();
    };
  return {
    gateway,
    address: listener.address,
    close: () => closing ??= stop(),
  };
}
