/**
 * Browser page module: Chromium through the gateway. Opens a session with the WebSocket connector
 * over Chromium's own WebSocket (which sends the page's Origin), authenticates with the gateway
 * token (the control-channel bootstrap, or a browser-side pool with `gatewayTokenBootstrap`), runs
 * the 17 interop checks and returns the PASS/FAIL lines and the summary line. Also reports the
 * close code a refused session ends with, as the page sees it.
 *
 * @module
 */

import { webSocketConnect, type WebSocketConstructor } from "../../../adapters/websocket/mod.ts";
import { TransportClient } from "../../../src/client/transport-client.ts";
import { describeError } from "../../../src/errors.ts";
import { authenticateToGateway, gatewayTokenBootstrap } from "../../../src/gateway/mod.ts";
import { ConnectionPool } from "../../../src/pool/mod.ts";
import {
  failAllChecks,
  formatResult,
  formatSummary,
  runInteropChecks,
} from "../../../interop/checks.ts";

/** Runs the checks through the gateway at `url`, authenticating with `token`. */
export async function runGatewayInterop(
  url: string,
  token: string,
  checkTimeoutMs: number,
  viaPool: boolean,
): Promise<string[]> {
  const lines: string[] = [];
  const onResult = (result: Parameters<typeof formatResult>[0]) => lines.push(formatResult(result));
  const pool = viaPool
    ? new ConnectionPool<TransportClient>({
      connector: (_route, options) => TransportClient.connect(webSocketConnect({ url }), options),
      bootstraps: [gatewayTokenBootstrap(token)],
    })
    : undefined;
  let client: TransportClient;
  try {
    if (pool !== undefined) {
      client = (await pool.lease("gateway", { timeoutMs: 10_000 })).client;
    } else {
      client = await TransportClient.connect(webSocketConnect({ url }), { timeoutMs: 10_000 });
      await authenticateToGateway(client, token, { timeoutMs: 10_000 });
    }
  } catch (error) {
    await pool?.close();
    const summary = failAllChecks(`cannot open ${url}: ${describeError(error)}`, onResult);
    return [...lines, formatSummary(summary)];
  }
  try {
    const summary = await runInteropChecks(client, { checkTimeoutMs, onResult });
    lines.push(formatSummary(summary));
  } finally {
    if (pool !== undefined) await pool.close();
    else await client.close();
  }
  return lines;
}

/**
 * Opens a session at `url`, authenticates with `token` (when given) and sends one RPC; resolves
 * with the close code the WebSocket ended with.
 */
export async function gatewayCloseCode(url: string, token: string | undefined): Promise<number> {
  let code: Promise<number> | undefined;
  const Recording = class extends WebSocket {
    constructor(target: string, protocols?: string | string[]) {
      super(target, protocols);
      code = new Promise((resolve) =>
        this.addEventListener("close", (event) => resolve(event.code))
      );
    }
  } as unknown as WebSocketConstructor;
  try {
    const client = await TransportClient.connect(
      webSocketConnect({ url, WebSocket: Recording }),
      { timeoutMs: 10_000 },
    );
    if (token !== undefined) await authenticateToGateway(client, token).catch(() => {});
    await client.sendRpc(new TextEncoder().encode("hello"), { timeoutMs: 10_000 }).catch(() => {});
  } catch {
    // the upgrade itself was refused: the close event still says how
  }
  return await code!;
}
