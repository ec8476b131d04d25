/**
 * The ChunkFetchRequests of one connection: `StreamManager.getChunk` → ChunkFetchSuccess /
 * ChunkFetchFailure, with the transfer budget, the reply memory and the manager's
 * `chunkBeingSent` / `chunkSent` hooks, and Ferry's cancel.
 *
 * Replies are pulled, not pushed: an accepted fetch waits in the connection's {@linkcode ReplyGate}
 * as a small record (no chunk bytes) and `getChunk` runs only once the connection's reply window
 * and the server-wide reply memory have room for it; its charge is given back when the reply is
 * handed to the socket (or fails, or is dropped). A peer that never reads its socket therefore
 * makes the server hold at most one window of chunk bytes, whatever it asks for.
 *
 * A fetch takes its transfer budget slot (`maxChunksBeingTransferred`) when its turn comes, just
 * before `getChunk`; at the limit it fails then with the "busy" failure.
 *
 * Fetches not yet handed to the connection (waiting, or `getChunk` not settled) are kept by
 * (streamId, chunkIndex) so a cancel can find them. A cancelled fetch gives back its serving count
 * and budget slot at once; a waiting one never reads its source, one being read gives back its
 * reply memory when the read settles (its bytes are dropped, nothing is sent: the peer already
 * forgot the request), and the manager hears `chunkCancelled` (an in-order stream cannot continue
 * without that chunk, so `OneForOneStreamManager` releases it).
 *
 * @module
 */

import { describeValue } from "../connection/body-source.ts";
import { chunkKey } from "../connection/response-handler.ts";
import { describeError } from "../errors.ts";
import { type Int64, MessageType } from "../protocol/messages.ts";
import type { GatedReply, ReplyGate } from "./reply-gate.ts";
import type { ReplyHost } from "./reply-host.ts";
import type { StreamManager } from "./stream-manager.ts";

/** One chunk fetch being served: the gate's record, and the callbacks of its one read. */
class ServedChunk implements GatedReply {
  readonly streamId: Int64;
  readonly chunkIndex: number;
  readonly key: string;
  readonly #replies: ChunkFetchReplies;
  /** The peer cancelled it: its result is dropped, nothing is sent. */
  cancelled = false;
  charged = 0;
  waiting = false;

  constructor(replies: ChunkFetchReplies, streamId: Int64, chunkIndex: number) {
    this.#replies = replies;
    this.streamId = streamId;
    this.chunkIndex = chunkIndex;
    this.key = chunkKey(streamId, chunkIndex);
  }

  start(): void {
    this.#replies.read(this);
  }

  drop(): void {
    this.#replies.dropped(this);
  }

  readonly succeeded = (chunk: unknown): void => this.#replies.succeeded(this, chunk);
  readonly failed = (error: unknown): void => this.#replies.failed(this, error);
  readonly written = (): void => this.#replies.written(this);
}

export class ChunkFetchReplies {
  readonly #host: ReplyHost;
  readonly #manager: StreamManager;
  readonly #gate: ReplyGate;
  /** Usually one fetch per key; duplicates (the same chunk asked twice) share a list. */
  readonly #byKey = new Map<string, ServedChunk | ServedChunk[]>();

  constructor(host: ReplyHost, manager: StreamManager) {
    this.#host = host;
    this.#manager = manager;
    this.#gate = host.gate;
  }

  /** Serves one fetch (the caller has checked the per-connection cap). */
  serve(streamId: Int64, chunkIndex: number): void {
    const host = this.#host;
    const served = new ServedChunk(this, streamId, chunkIndex);
    this.#add(served);
    host.serving(1);
    this.#gate.admit(served);
  }

  /** Its turn came (reply memory charged): reads the chunk. For {@linkcode ServedChunk}. */
  read(served: ServedChunk): void {
    const host = this.#host;
    // The transfer slot is taken now, not on arrival: waiting records are bounded by the
    // per-connection request cap, and a few connections' backlogs cannot take every slot.
    if (!host.budget.tryAcquire()) {
      this.#gate.release(served);
      this.#delete(served);
      host.serving(-1);
      const { streamId, chunkIndex } = served;
      this.#fail(streamId, chunkIndex, host.shed(`chunk ${chunkIndex} of stream ${streamId}`));
      return;
    }
    try {
      const result = this.#manager.getChunk(served.streamId, served.chunkIndex, this.#host.client);
      if (typeof (result as { then?: unknown } | null)?.then === "function") {
        result.then(served.succeeded, served.failed);
      } else {
        served.succeeded(result);
      }
    } catch (error) {
      served.failed(error);
    }
  }

  /** For {@linkcode ServedChunk}. */
  succeeded(served: ServedChunk, chunk: unknown): void {
    const gate = this.#gate;
    if (served.cancelled) {
      gate.release(served); // already given back otherwise; the bytes are dropped
      return;
    }
    const host = this.#host;
    this.#delete(served);
    host.serving(-1);
    const { streamId, chunkIndex } = served;
    if (!(chunk instanceof Uint8Array)) {
      gate.release(served);
      host.budget.release();
      this.#fail(
        streamId,
        chunkIndex,
        `StreamManager.getChunk returned ${describeValue(chunk)} instead of a Uint8Array`,
      );
      return;
    }
    gate.resize(served, chunk.byteLength);
    host.notify("chunkBeingSent", streamId);
    const manager = this.#manager;
    host.connection.send(
      { type: MessageType.ChunkFetchSuccess, streamId, chunkIndex, body: chunk },
      served.written,
      manager.recycleChunk === undefined ? undefined : () => {
        try {
          manager.recycleChunk!(streamId, chunk, host.client);
        } catch (error) {
          host.reportError(error, "StreamManager.recycleChunk");
        }
      },
    );
  }

  /** Handed to the socket (or dropped with the connection). For {@linkcode ServedChunk}. */
  written(served: ServedChunk): void {
    this.#gate.release(served);
    const host = this.#host;
    host.budget.release();
    host.notify("chunkSent", served.streamId);
  }

  /** For {@linkcode ServedChunk}. */
  failed(served: ServedChunk, error: unknown): void {
    this.#gate.release(served);
    if (served.cancelled) return;
    this.#delete(served);
    const host = this.#host;
    host.serving(-1);
    host.budget.release();
    this.#fail(served.streamId, served.chunkIndex, describeError(error));
  }

  /** The connection closed while it waited: nothing to send. For {@linkcode ServedChunk}. */
  dropped(served: ServedChunk): void {
    if (served.cancelled) return;
    this.#delete(served);
    this.#host.serving(-1);
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
    // A waiting record leaves the queue (it holds no transfer slot yet); one being read gives its
    // slot back now and its memory when the read settles.
    const host = this.#host;
    if (!this.#gate.withdraw(existing)) host.budget.release();
    host.serving(-1);
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

  #fail(streamId: Int64, chunkIndex: number, error: string): void {
    this.#host.connection.send({
      type: MessageType.ChunkFetchFailure,
      streamId,
      chunkIndex,
      error,
    });
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
