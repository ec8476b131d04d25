/**
 * Opens the Ferry client every Ferry contestant uses: `TransportClient` over the Node TCP adapter,
 * to the Ferry server of the bench server process.
 *
 * @module
 */

import { tcpConnect } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import type { ServerDirectory } from "../harness/server-directory.ts";

/** Connects one TransportClient to the bench server process's Ferry server. */
export function connectFerry(servers: ServerDirectory): Promise<TransportClient> {
  const { host, port } = servers.get("ferry");
  return TransportClient.connect(tcpConnect({ host, port }), { timeoutMs: 10_000 });
}

/**
 * Runs `work` and adds `clientSocketWrites` (socket writes the client made meanwhile) to its
 * figures: how well the engine coalesces frames, a diagnostic recorded in the JSON report.
 */
export async function withWriteCount<T extends Record<string, number>>(
  client: TransportClient,
  work: () => Promise<T>,
): Promise<T & { clientSocketWrites: number }> {
  const before = client.stats().socketWrites;
  const figures = await work();
  return { ...figures, clientSocketWrites: client.stats().socketWrites - before };
}
