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

import {
  type GatewayRunnerOptions,
  runGateway,
  runnerGateway,
  runnerListenOptions,
  type RunningGateway,
} from "../gateway-runner.ts";
import { tcpConnect } from "./tcp.ts";
import { webSocketListen } from "./ws-listen.ts";

export interface DenoGatewayOptions extends GatewayRunnerOptions {
  /** Ping towards browsers, rounded up to whole seconds (0 = none). Default 15 000 ms. */
  readonly pingIntervalMs?: number;
}

/** A running Deno gateway; `close` ends every session with 1001 before it stops listening. */
export type RunningDenoGateway = RunningGateway;

/** Starts a gateway on its own Deno WebSocket listener. */
export async function startDenoGateway(options: DenoGatewayOptions): Promise<RunningDenoGateway> {
  const gateway = runnerGateway(options, tcpConnect);
  const listen = webSocketListen({
    ...runnerListenOptions(options, gateway),
    maxHeldBytes: gateway.options.maxBufferedBytes,
  });
  // Sessions first (so browsers get 1001): closing Deno.serve ends what it upgraded.
  return await runGateway(gateway, listen, "sessions-first");
}
