/**
 * Real engines for pool integration tests: a `TransportServer` on an in-memory network per route,
 * a pool of real `TransportClient`s reaching them, and a handler/stream manager that record what
 * reaches the application.
 *
 * @module
 */

import type { TransportClient } from "../../../src/client/transport-client.ts";
import type { Int64 } from "../../../src/protocol/messages.ts";
import type { RpcHandler } from "../../../src/responder/rpc-handler.ts";
import type { StreamBody, StreamManager } from "../../../src/responder/stream-manager.ts";
import {
  TransportServer,
  type TransportServerOptions,
} from "../../../src/server/transport-server.ts";
import type { Connect } from "../../../src/socket.ts";
import { memoryNetwork } from "../../helpers/memory-socket.ts";

const decoder = new TextDecoder();

/** An echo handler that records every call it receives. */
export class RecordingHandler implements RpcHandler {
  readonly calls: string[] = [];
  receive(_client: TransportClient, message: Uint8Array): Uint8Array {
    this.calls.push(`rpc ${describe(message)}`);
    return message.slice();
  }
  receiveOneWay(_client: TransportClient, message: Uint8Array): void {
    this.calls.push(`oneway ${describe(message)}`);
  }
  async receiveStream(
    _client: TransportClient,
    meta: Uint8Array,
    body: ReadableStream<Uint8Array>,
  ): Promise<Uint8Array> {
    this.calls.push(`upload ${describe(meta)}`);
    const reader = body.getReader();
    while (!(await reader.read()).done) {
      // drain
    }
    return meta.slice();
  }
}

function describe(bytes: Uint8Array): string {
  return bytes[0] === 0xf5 ? `control:${bytes[8]!.toString(16)}` : decoder.decode(bytes);
}

/**
 * Chunks `chunk(streamId, index)` of any stream id; records requests as `streamId/index@conn`,
 * and lets a test fail or kill a connection at a given request.
 */
export class ScriptedStreamManager implements StreamManager {
  readonly requests: string[] = [];
  readonly #connections = new Map<TransportClient, number>();
  /** Called before answering; may throw or reject (ChunkFetchFailure), delay, or close `owner`. */
  beforeChunk:
    | ((streamId: Int64, index: number, owner: TransportClient) => void | Promise<void>)
    | undefined;

  getChunk(streamId: Int64, chunkIndex: number, owner: TransportClient): Promise<Uint8Array> {
    let connection = this.#connections.get(owner);
    if (connection === undefined) {
      connection = this.#connections.size + 1;
      this.#connections.set(owner, connection);
    }
    this.requests.push(`${streamId}/${chunkIndex}@${connection}`);
    try {
      return Promise.resolve(this.beforeChunk?.(streamId, chunkIndex, owner)).then(() =>
        chunkBytes(streamId, chunkIndex)
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }
  openStream(streamId: string): Promise<StreamBody> {
    this.requests.push(`stream ${streamId}`);
    return Promise.reject(new Error(`Stream '${streamId}' was not found.`));
  }
  connectionTerminated(): void {}
}

/** The bytes of chunk `index` of `streamId`: 64 bytes derived from both. */
export function chunkBytes(streamId: Int64, index: number): Uint8Array {
  const bytes = new Uint8Array(64);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (Number(streamId) * 31 + index * 7 + i) & 0xff;
  return bytes;
}

/** A server listening on its own in-memory network. */
export interface MemoryServer {
  readonly server: TransportServer;
  readonly connect: Connect;
  readonly handler: RecordingHandler;
  readonly streams: ScriptedStreamManager;
}

/** Starts a server; `configure` may wrap its options (e.g. to install authentication). */
export async function startServer(
  configure: (options: TransportServerOptions) => TransportServerOptions = (options) => options,
  label = "pool-test",
): Promise<MemoryServer> {
  const handler = new RecordingHandler();
  const streams = new ScriptedStreamManager();
  const network = memoryNetwork({ label });
  const server = new TransportServer(
    configure({ rpcHandler: handler, streamManager: streams, closeGraceMs: 100 }),
  );
  await server.listen(network.listen);
  return { server, connect: network.connect, handler, streams };
}
