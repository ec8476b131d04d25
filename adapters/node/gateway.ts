/**
 * The gateway on a Node listener of its own: `startNodeGateway` binds a WebSocket listener (the
 * `ws` package) whose upgrades are checked by `Gateway.allowUpgrade` (Origin and path, 403
 * otherwise) and whose sockets go to `Gateway.accept`; `{ host, port }` targets are reached with
 * `tcpConnect`. Browser liveness: WebSocket pings every `pingIntervalMs` (a tab that stops
 * answering is cut off within two intervals). Slowloris: upgrade headers must arrive within
 * `upgradeTimeoutMs`. A WebSocket message may not exceed the gateway's `maxFrameLength`.
 *
 * To share one port with other endpoints, use `Gateway` with your own `webSocketListen` instead
 * (see `src/gateway/gateway.ts`).
 *
 * @module
 */

import { Gateway } from "../../src/gateway/gateway.ts";
import type { GatewayOptions } from "../../src/gateway/gateway-options.ts";
import type { SocketListener } from "../../src/socket.ts";
import { tcpConnect } from "./tcp.ts";
import { webSocketListen } from "./ws-listen.ts";

export interface NodeGatewayOptions extends Omit<GatewayOptions, "connect"> {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port (0 = pick a free one). Default 0. */
  readonly port?: number;
  /** WebSocket ping interval towards browsers (0 = none). Default 15 000 ms. */
  readonly pingIntervalMs?: number;
  /** Deadline for an upgrade request's headers. Default 10 000 ms. */
  readonly upgradeTimeoutMs?: number;
  /** Serves plain HTTP requests on the same port (static files, health). Default: 426. */
  readonly onRequest?: (request: Request) => Response | Promise<Response>;
  /** How `{ host, port }` targets are reached. Default `tcpConnect({ host, port })`. */
  readonly connect?: GatewayOptions["connect"];
}

/** A running gateway: the `Gateway` (stats), where it listens, and how to stop it. */
export interface RunningGateway {
  readonly gateway: Gateway;
  readonly address: SocketListener["address"];
  /** Stops listening, ends every session with 1001, closes backend connections. */
  close(): Promise<void>;
}

/** Starts a gateway on its own Node WebSocket listener. */
export async function startNodeGateway(options: NodeGatewayOptions): Promise<RunningGateway> {
  const gateway = new Gateway({
    ...options,
    connect: options.connect ??
      ((address) => tcpConnect({ host: address.host, port: address.port })),
  });
  const listen = webSocketListen({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    maxPayload: gateway.options.maxFrameLength,
    allowUpgrade: (request) => gateway.allowUpgrade(request),
    pingIntervalMs: options.pingIntervalMs ?? 15_000,
    headersTimeoutMs: options.upgradeTimeoutMs ?? 10_000,
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
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
  return {
    gateway,
    address: listener.address,
    close: () =>
      closing ??= (async () => {
        await listener.close();
        await gateway.close();
      })(),
  };
}
