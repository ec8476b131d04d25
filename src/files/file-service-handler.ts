/**
 * The server side of the file service over any {@linkcode FileCatalog}: `open` registers the file
 * as a random-access stream owned by the calling connection in the server's
 * `OneForOneStreamManager`, so its chunks are fetched with plain ChunkFetchRequests.
 *
 * ```ts
 * const streams = new OneForOneStreamManager();
 * const router = new ServiceRouter().serve(fileService, fileServiceImplementation(catalog, streams));
 * const server = new TransportServer({ rpcHandler: router, streamManager: streams });
 * ```
 *
 * @module
 */

import type { Peer } from "../responder/peer.ts";
import { describeError } from "../errors.ts";
import { RpcErrorCode, ServiceError, serviceRefusal } from "../rpc/rpc-errors.ts";
import type { ServiceImplementation } from "../rpc/service-definition.ts";
import type { OneForOneStreamManager } from "../responder/one-for-one-stream-manager.ts";
import type { CatalogFile, FileCatalog } from "./file-catalog.ts";
import {
  type ChunkDigests,
  FileErrorCode,
  type FileServiceMethods,
  type OpenedFile,
} from "./file-service.ts";

/**
 * Serves `catalog` through `streams` (the manager the `TransportServer` uses).
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, TransportServer } from "ferry-transport";
 * import {
 *   type FileCatalog,
 *   fileService,
 *   fileServiceImplementation,
 *   memoryFileCatalog,
 * } from "ferry-transport/files";
 * import { tcpListen } from "ferry-transport/node";
 * import { ServiceRouter } from "ferry-transport/rpc";
 *
 * // A catalog of your own: here, only the files whose names end in .csv.
 * const all = memoryFileCatalog({ "a.csv": new TextEncoder().encode("x,y\n1,2\n") });
 * const csvOnly: FileCatalog = {
 *   list: async () => (await all.list()).filter((file) => file.name.endsWith(".csv")),
 *   open: (name) => name.endsWith(".csv") ? all.open(name) : undefined,
 * };
 * const streams = new OneForOneStreamManager({ maxStreamsPerOwner: 64 });
 * const router = new ServiceRouter().serve(fileService, fileServiceImplementation(csvOnly, streams));
 * const server = new TransportServer({ rpcHandler: router, streamManager: streams });
 * const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
 * console.log(`serving CSV files on port ${listener.address.port}`);
 * ```
 */
export function fileServiceImplementation(
  catalog: FileCatalog,
  streams: OneForOneStreamManager,
): ServiceImplementation<FileServiceMethods> {
  /** Files each connection opened by stream id, so `release` only touches the caller's own. */
  const opened = new WeakMap<Peer, Map<bigint, CatalogFile>>();
  /**
   * Opens started and not yet registered (per connection and in all), counted against the
   * manager's stream caps before the catalog opens anything: a refused open never takes a
   * descriptor, even with thousands of opens in flight at once.
   */
  const opening = new WeakMap<Peer, number>();
  let openingTotal = 0;
  return {
    list: async () => [...await catalog.list()],
    open: ({ name }, { client }): Promise<OpenedFile> => {
      const mineOpening = opening.get(client) ?? 0;
      // At a stream cap a flood of opens is refused synchronously and cheaply (no promise, no
      // stack trace per refusal): 20 000 of them must not keep other clients waiting.
      const refusal = streams.registerRefusal(client, mineOpening, openingTotal);
      if (refusal !== undefined) throw serviceRefusal(RpcErrorCode.Limit, refusal);
      opening.set(client, mineOpening + 1);
      openingTotal++;
      return openFile(name, client);
    },
    release: ({ streamId }, { client }) => {
      const mine = opened.get(client);
      if (mine === undefined || !mine.delete(streamId)) return false;
      return streams.releaseStream(streamId);
    },
    digests: ({ streamId }, { client }): ChunkDigests => {
      const file = opened.get(client)?.get(streamId);
      if (file === undefined) {
        throw new ServiceError(
          FileErrorCode.NotFound,
          `No stream ${streamId} open on this connection (open the file first)`,
        );
      }
      return file.digests;
    },
  };

  /** The rest of `open`, once its registration is counted in `opening`. */
  async function openFile(name: string, client: Peer): Promise<OpenedFile> {
    let file: CatalogFile | undefined;
    try {
      file = await catalog.open(name);
    } catch (error) {
      throw new ServiceError(
        FileErrorCode.Unreadable,
        `Cannot open ${name}: ${describeError(error)}`,
      );
    } finally {
      opening.set(client, (opening.get(client) ?? 1) - 1);
      openingTotal--;
    }
    if (file === undefined) {
      const names = (await catalog.list()).map((info) => info.name);
      throw new ServiceError(
        FileErrorCode.NotFound,
        `No file named ${JSON.stringify(name)} (served: ${names.join(", ") || "none"})`,
      );
    }
    let streamId: bigint;
    try {
      streamId = BigInt(streams.registerStream(client, file.source));
    } catch (error) {
      file.source.close?.();
      throw error;
    }
    let mine = opened.get(client);
    if (mine === undefined) opened.set(client, mine = new Map());
    mine.set(streamId, file);
    return { ...file.info, streamId };
  }
}
