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

import {
  type GatewayRunnerOptions,
  runGateway,
  runnerGateway,
  runnerListenOptions,
  type RunningGateway,
} from "../gateway-runner.ts";
import { tcpConnect } from "./tcp.ts";
import { webSocketListen } from "./ws-listen.ts";

export type { RunningGateway } from "../gateway-runner.ts";

export interface NodeGatewayOptions extends GatewayRunnerOptions {
  /** Deadline for an upgrade request's headers. Default 10 000 ms. */
  readonly upgradeTimeoutMs?: number;
}

/** Starts a gateway on its own Node WebSocket listener. */
export async function startNodeGateway(options: NodeGatewayOptions): Promise<RunningGateway> {
  const gateway = runnerGateway(options, tcpConnect);
  const listen = webSocketListen({
    ...runnerListenOptions(options, gateway),
    maxPayload: gateway.options.maxFrameLength,
    headersTimeoutMs: options.upgradeTimeoutMs ?? 10_000,
  });
  return await runGateway(gateway, listen, "listener-first");
}
