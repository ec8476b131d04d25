/**
 * Browser page module: Chromium as an interop client. Connects to `url` with the WebSocket
 * connector over Chromium's own WebSocket, runs the 17 interop checks, and returns the PASS/FAIL
 * lines and the summary line, exactly as `interop/client.ts` prints them.
 *
 * @module
 */

import { webSocketConnect } from "../../../adapters/websocket/mod.ts";
import { TransportClient } from "../../../src/client/transport-client.ts";
import { describeError } from "../../../src/errors.ts";
import {
  failAllChecks,
  formatResult,
  formatSummary,
  runInteropChecks,
} from "../../../interop/checks.ts";

export async function runWebSocketInterop(url: string, checkTimeoutMs: number): Promise<string[]> {
  const lines: string[] = [];
  const onResult = (result: Parameters<typeof formatResult>[0]) => lines.push(formatResult(result));
  let client: TransportClient;
  try {
    client = await TransportClient.connect(webSocketConnect({ url }), { timeoutMs: 10_000 });
  } catch (error) {
    const summary = failAllChecks(`cannot connect to ${url}: ${describeError(error)}`, onResult);
    return [...lines, formatSummary(summary)];
  }
  try {
    const summary = await runInteropChecks(client, { checkTimeoutMs, onResult });
    lines.push(formatSummary(summary));
  } finally {
    await client.close();
  }
  return lines;
}
