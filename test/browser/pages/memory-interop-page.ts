/**
 * Browser page module: the whole engine inside Chromium. An interop `TransportServer` and a
 * `TransportClient` talk over the in-memory socket pair, and the 17 interop checks run between
 * them; the PASS/FAIL lines and the summary line come back to the test.
 *
 * @module
 */

import { TransportClient } from "../../../src/client/transport-client.ts";
import { formatResult, formatSummary, runInteropChecks } from "../../../interop/checks.ts";
import { createInteropServer } from "../../../interop/interop-handler.ts";
import { memoryNetwork } from "../../helpers/memory-socket.ts";

export async function runMemoryInterop(checkTimeoutMs: number): Promise<string[]> {
  const network = memoryNetwork({ label: "chromium" });
  const server = createInteropServer();
  await server.listen(network.listen);
  const lines: string[] = [];
  try {
    const client = await TransportClient.connect(network.connect);
    try {
      const summary = await runInteropChecks(client, {
        checkTimeoutMs,
        onResult: (result) => lines.push(formatResult(result)),
      });
      lines.push(formatSummary(summary));
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
  }
  return lines;
}
