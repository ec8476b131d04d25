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

export { withWriteCount } from "./write-count.ts";
