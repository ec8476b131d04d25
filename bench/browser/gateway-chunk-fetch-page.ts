/**
 * The page side of the gateway chunk-fetch case (`bench/cases/gateway-chromium-chunk-fetch.ts`),
 * run by `bench/harness/chromium-direct.ts` in a directly launched Chromium and linked against
 * the shipped `ferry.js`. Both contestants do the same work (`fetchChunks`: 1 MiB chunks, 16 in
 * flight) with the same client over Chromium's WebSocket; only the path differs.
 *
 * - `openGateway(url, token)` / `fetchGateway(count)`: through the gateway (authenticated with
 *   the token over the control channel) to a Ferry TCP server.
 * - `openDirect(url)` / `fetchDirect(count)`: straight to a Ferry WebSocket listener.
 *
 * @module
 */

import { webSocketConnect } from "../../adapters/websocket/connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { authenticateToGateway } from "../../src/gateway/gateway-token.ts";
import { fetchChunks } from "../cases/chunk-fetch-work.ts";

let gateway: TransportClient | undefined;
let direct: TransportClient | undefined;

/** Opens (once) a session through the gateway at `url` and authenticates it. */
export async function openGateway(url: string, token: string): Promise<boolean> {
  if (gateway === undefined) {
    const client = await TransportClient.connect(webSocketConnect({ url }), { timeoutMs: 10_000 });
    await authenticateToGateway(client, token, { timeoutMs: 10_000 });
    gateway = client;
  }
  return true;
}

export function fetchGateway(count: number): Promise<{ mibPerSecond: number; seconds: number }> {
  if (gateway === undefined) throw new Error("fetchGateway before openGateway");
  return fetchChunks(gateway, count);
}

/** Opens (once) a client straight to the Ferry WebSocket listener at `url`. */
export async function openDirect(url: string): Promise<boolean> {
  direct ??= await TransportClient.connect(webSocketConnect({ url }), { timeoutMs: 10_000 });
  return true;
}

export function fetchDirect(count: number): Promise<{ mibPerSecond: number; seconds: number }> {
  if (direct === undefined) throw new Error("fetchDirect before openDirect");
  return fetchChunks(direct, count);
}

/** Closes whatever is open. */
export async function closeAll(): Promise<boolean> {
  const closing = [gateway?.close(), direct?.close()];
  gateway = direct = undefined;
  await Promise.all(closing);
  return true;
}
