/**
 * Ferry's side of the bench, independent of transport and runtime: a TransportServer with
 *
 * - an RpcHandler that echoes every RPC body, except `openStream` requests (see
 *   `ferry-bench-protocol.ts`), which register a random-access stream for the calling connection,
 *   and `certificate` requests, answered with the process's TLS certificate;
 * - a OneForOneStreamManager whose streams serve one preallocated buffer as every chunk (no copy,
 *   no allocation per chunk: the same work the raw blast servers do). Streams are released when
 *   their connection closes.
 *
 * Node (`ferry-bench-server.ts`: TCP, TLS, WebSocket) and Deno (`bench/deno/deno-bench-server.ts`)
 * listen with it. No `node:*` and no `Deno.*` here.
 *
 * @module
 */

import type { TransportClient } from "../../src/client/transport-client.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { TransportServer, type TransportServerOptions } from "../../src/server/transport-server.ts";
import { benchCertificate } from "./bench-certificate.ts";
import {
  decodeOpenStream,
  encodeStreamId,
  isCertificateRequest,
  maxBenchChunkBytes,
} from "./ferry-bench-protocol.ts";

/** Server options the bench service leaves to its caller (e.g. the ping responder). */
export type FerryBenchServerOptions = Omit<TransportServerOptions, "rpcHandler" | "streamManager">;

/** A TransportServer serving the bench protocol; call `listen` with any adapter's `Listen`. */
export function createFerryBenchServer(options: FerryBenchServerOptions = {}): TransportServer {
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
    receive(client: TransportClient, message: Uint8Array): Uint8Array | Promise<Uint8Array> {
      if (isCertificateRequest(message)) {
        return benchCertificate().then(({ certPem }) => new TextEncoder().encode(certPem));
      }
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
  return new TransportServer({
    // Every bench client connects from 127.0.0.1, and the scale case holds 10 000 connections:
    // the per-address cap a public server wants would refuse them.
    maxConnections: 20_000,
    maxConnectionsPerAddress: 20_000,
    ...options,
    rpcHandler,
    streamManager,
  });
}
