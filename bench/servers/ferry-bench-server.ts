/**
 * Ferry's side of the bench: a TransportServer on the Node TCP adapter with
 *
 * - an RpcHandler that echoes every RPC body, except `openStream` requests (see
 *   `ferry-bench-protocol.ts`), which register a random-access stream for the calling connection;
 * - a OneForOneStreamManager whose streams serve one preallocated buffer as every chunk (no copy,
 *   no allocation per chunk: the same work the raw blast server does). Streams are released when
 *   their connection closes.
 *
 * @module
 */

import { tcpListen } from "../../adapters/node/tcp.ts";
import type { TransportClient } from "../../src/client/transport-client.ts";
import type { RpcHandler } from "../../src/server/rpc-handler.ts";
import { OneForOneStreamManager } from "../../src/server/one-for-one-stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { decodeOpenStream, encodeStreamId, maxBenchChunkBytes } from "./ferry-bench-protocol.ts";
import { benchHost, type RunningServer } from "./running-server.ts";

export async function startFerryBenchServer(): Promise<RunningServer> {
  const streamManager = new OneForOneStreamManager();
  const chunks = new Map<number, Uint8Array>();
  const chunkOf = (size: number) => {
    let chunk = chunks.get(size);
    if (chunk === undefined) {
      chunk = new Uint8Array(size).fill(0x5a);
      chunks.set(size, chunk);
    }
    return chunk;
  };
  const rpcHandler: RpcHandler = {
    receive(client: TransportClient, message: Uint8Array): Uint8Array {
      const open = decodeOpenStream(message);
      if (open === undefined) return message;
      if (open.chunkSize === 0 || open.chunkSize > maxBenchChunkBytes) {
        throw new RangeError(
          `openStream: chunk size ${open.chunkSize} is outside 1..${maxBenchChunkBytes}`,
        );
      }
      const chunk = chunkOf(open.chunkSize);
      const streamId = streamManager.registerStream(client, {
        chunkCount: open.chunkCount,
        getChunk: () => chunk,
      });
      return encodeStreamId(streamId);
    },
  };
  const server = new TransportServer({ rpcHandler, streamManager });
  const listener = await server.listen(tcpListen({ host: benchHost, port: 0 }));
  return {
    port: listener.address.port,
    close: () => server.close(),
  };
}
