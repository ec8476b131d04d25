/**
 * The ChunkFetchRequests of one connection: `StreamManager.getChunk` → ChunkFetchSuccess /
 * ChunkFetchFailure, with the transfer budget and the manager's `chunkBeingSent` / `chunkSent`
 * hooks, and Ferry's cancel.
 *
 * Fetches whose bytes are still being produced (`getChunk` has not settled) are kept by
 * (streamId, chunkIndex) so a cancel can find them; a fetch leaves as soon as its reply is handed
 * to the connection (from then on it is an ordinary frame in the write queue). A cancelled fetch
 * gives back its serving count and budget slot at once, its eventual bytes are dropped (nothing
 * is sent: the peer already forgot the request), and the manager hears `chunkCancelled` (an
 * in-order stream cannot continue without that chunk, so `OneForOneStreamManager` releases it).
 *
 * @module
 */

import { describeValue } from "../connection/body-source.ts";
import { chunkKey } from "../connection/response-handler.ts";
import { describeError } from "../errors.ts";
import { type Int64, MessageType } from "../protocol/messages.ts";
import type { ReplyHost } from "./reply-host.ts";
import type { StreamManager } from "./stream-manager.ts";

/** One chunk fetch being served. */
class ServedChunk {
  readonly streamId: Int64;
  readonly chunkIndex: number;
  readonly key: string;
  /** The peer cancelled it: its result is dropped, nothing is sent. */
  cancelled = false;

  constructor(streamId: Int64, chunkIndex: number) {
    this.streamId = streamId;
    this.chunkIndex = chunkIndex;
    this.key = chunkKey(streamId, chunkIndex);
  }
}

export class ChunkFetchReplies {
  readonly #host: ReplyHost;
  readonly #manager: StreamManager;
  /** Usually one fetch per key; duplicates (the same chunk asked twice) share a list. */
  readonly #byKey = new Map<string, ServedChunk | ServedChunk[]>();

  constructor(host: ReplyHost, manager: StreamManager) {
    this.#host = host;
    this.#manager = manager;
  }

  /** Serves one fetch (the caller has checked the per-connection cap). */
  serve(streamId: Int64, chunkIndex: number): void {
    const host = this.#host;
    const manager = this.#manager;
    const connection = host.connection;
    const budget = host.budget;
    const fail = (error: string) =>
      connection.send({ type: MessageType.ChunkFetchFailure, streamId, chunkIndex, error });
    if (!budget.tryAcquire()) {
      fail(host.shed(`chunk ${chunkIndex} of stream ${streamId}`));
      return;
    }
    const served = new ServedChunk(streamId, chunkIndex);
    this.#add(served);
    host.serving(1);
    const succeed = (chunk: unknown) => {
      if (served.cancelled) return; // already given back; the bytes are dropped
      this.#delete(served);
      host.serving(-1);
      if (!(chunk instanceof Uint8Array)) {
        budget.release();
        fail(`StreamManager.getChunk returned ${describeValue(chunk)} instead of a Uint8Array`);
        return;
      }
      host.notify("chunkBeingSent", streamId);
      connection.send(
        { type: MessageType.ChunkFetchSuccess, streamId, chunkIndex, body: chunk },
        () => {
          budget.release();
          host.notify("chunkSent", streamId);
        },
      );
    };
    const failed = (error: unknown) => {
      if (served.cancelled) return;
      this.#delete(served);
      host.serving(-1);
      budget.release();
      fail(describeError(error));
    };
    try {
      const result = manager.getChunk(streamId, chunkIndex, host.client);
      if (typeof (result as { then?: unknown } | null)?.then === "function") {
        result.then(succeed, failed);
      } else {
        succeed(result);
      }
    } catch (error) {
      failed(error);
    }
  }

  /**
   * The peer cancelled its fetch of this chunk. Applied only when exactly one fetch of it is being
   * served (a cancel carries no position, so with duplicates it cannot tell which one the peer
   * gave up). Returns whether it was applied.
   */
  cancel(streamId: Int64, chunkIndex: number): boolean {
    const existing = this.#byKey.get(chunkKey(streamId, chunkIndex));
    if (existing === undefined || Array.isArray(existing)) return false;
    existing.cancelled = true;
    this.#delete(existing);
    const host = this.#host;
    host.serving(-1);
    host.budget.release();
    const manager = this.#manager;
    if (manager.chunkCancelled !== undefined) {
      try {
        manager.chunkCancelled(existing.streamId, chunkIndex, host.client);
      } catch (error) {
        host.reportError(error, "StreamManager.chunkCancelled");
      }
    }
    return true;
  }

  #add(chunk: ServedChunk): void {
    const existing = this.#byKey.get(chunk.key);
    if (existing === undefined) this.#byKey.set(chunk.key, chunk);
    else if (Array.isArray(existing)) existing.push(chunk);
    else this.#byKey.set(chunk.key, [existing, chunk]);
  }

  #delete(chunk: ServedChunk): void {
    const existing = this.#byKey.get(chunk.key);
    if (existing === chunk) {
      this.#byKey.delete(chunk.key);
    } else if (Array.isArray(existing)) {
      const index = existing.indexOf(chunk);
      if (index >= 0) existing.splice(index, 1);
      if (existing.length === 1) this.#byKey.set(chunk.key, existing[0]!);
    }
  }
}
