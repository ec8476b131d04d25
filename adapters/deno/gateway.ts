/**
 * The gateway on a Deno listener of its own: `startDenoGateway` binds `Deno.serve` through the
 * Deno WebSocket listener; upgrades are checked by `Gateway.allowUpgrade` (Origin and path, 403
 * otherwise) and sockets go to `Gateway.accept`; `{ host, port }` targets are reached with Deno's
 * `tcpConnect`. Browser liveness: `pingIntervalMs` becomes `upgradeWebSocket`'s `idleTimeout`
 * (whole seconds): Deno pings and closes a WebSocket whose peer stops answering.
 *
 * Deno differences from the Node runner: `Deno.serve` exposes no header deadline, so there is no
 * `upgradeTimeoutMs` (Deno's HTTP server applies its own); its server-side WebSocket cannot pause
 * reading, so a paused browser's messages are held in the adapter up to its `maxHeldBytes`
 * (the session still stops issuing backend requests, so this is bounded by what the browser sends
 * before it notices no replies: at most the gateway's limits plus one WebSocket message).
 *
 * @module
 */

import { Gateway } from "../../src/gateway/gateway.ts";
import type { GatewayOptions } from "../../src/gateway/gateway-options.ts";
import type { SocketListener } from "../../src/socket.ts";
import { tcpConnect } from "./tcp.ts";
import { webSocketListen } from "./ws-listen.ts";

export interface DenoGatewayOptions extends Omit<GatewayOptions, "connect"> {
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port (0 = pick a free one). Default 0. */
  readonly port?: number;
  /** Ping towards browsers, rounded up to whole seconds (0 = none). Default 15 000 ms. */
  readonly pingIntervalMs?: number;
  /** Serves plain HTTP requests on the same port (static files, health). Default: 426. */
  readonly onRequest?: (request: Request) => Response | Promise<Response>;
  /** How `{ host, port }` targets are reached. Default Deno's `tcpConnect({ host, port })`. */
  readonly connect?: GatewayOptions["connect"];
}

/** A running gateway: the `Gateway` (stats), where it listens, and how to stop it. */
export interface RunningDenoGateway {
  readonly gateway: Gateway;
  readonly address: SocketListener["address"];
  /** Ends every session with 1001, closes backend connections, stops listening. */
  close(): Promise<void>;
}

/** Starts a gateway on its own Deno WebSocket listener. */
export async function startDenoGateway(options: DenoGatewayOptions): Promise<RunningDenoGateway> {
  const gateway = new Gateway({
    ...options,
    connect: options.connect ??
      ((address) => tcpConnect({ host: address.host, port: address.port })),
  });
  const listen = webSocketListen({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    allowUpgrade: (request) => gateway.allowUpgrade(request),
    pingIntervalMs: options.pingIntervalMs ?? 15_000,
    maxHeldBytes: gateway.options.maxBufferedBytes,
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
    // Sessions first (so browsers get 1001): closing Deno.serve ends what it upgraded.
    close: () =>
      closing ??= (async () => {
        await gateway.close();
        await listener.close();
      })(),
  };
}
