/**
 * Chunk fetches waiting for their replies, matched on Spark's `StreamChunkId` (stream id, chunk
 * index): per stream, a map from chunk index to the one reply waiting for it or, when the same
 * chunk was asked for again before its reply came, a queue of them served oldest first.
 *
 * A bulk fetch makes one request and takes one reply per chunk, so neither builds anything to
 * look the pair up with: stream ids are canonical `Int64`s (a number when it is safe, else a
 * bigint), which a `Map` compares by value, and chunk indexes are small integers.
 *
 * @module
 */

import type { Int64 } from "../protocol/messages.ts";

/** What waits for one chunk: a reply, or replies oldest first (never an empty queue). */
type Waiting<R> = R | R[];

export class ChunkReplies<R extends object> {
  readonly #byStream = new Map<Int64, Map<number, Waiting<R>>>();
  #size = 0;

  /** Replies waiting. */
  get size(): number {
    return this.#size;
  }

  /** `reply` waits for chunk `chunkIndex` of `streamId`, after any already waiting for it. */
  add(streamId: Int64, chunkIndex: number, reply: R): void {
    let chunks = this.#byStream.get(streamId);
    if (chunks === undefined) {
      chunks = new Map();
      this.#byStream.set(streamId, chunks);
    }
    const waiting = chunks.get(chunkIndex);
    if (waiting === undefined) chunks.set(chunkIndex, reply);
    else if (Array.isArray(waiting)) waiting.push(reply);
    else chunks.set(chunkIndex, [waiting, reply]);
    this.#size++;
  }

  /** The oldest reply waiting for this chunk, no longer waiting; undefined if none is. */
  take(streamId: Int64, chunkIndex: number): R | undefined {
    const chunks = this.#byStream.get(streamId);
    const waiting = chunks?.get(chunkIndex);
    if (waiting === undefined) return undefined;
    let reply: R;
    if (!Array.isArray(waiting)) {
      reply = waiting;
      this.#forget(streamId, chunks!, chunkIndex);
    } else {
      reply = waiting.shift()!;
      if (waiting.length === 1) chunks!.set(chunkIndex, waiting[0]!);
    }
    this.#size--;
    return reply;
  }

  /** Stops `reply` waiting (it timed out or was aborted); false if it was not waiting. */
  remove(streamId: Int64, chunkIndex: number, reply: R): boolean {
    const chunks = this.#byStream.get(streamId);
    const waiting = chunks?.get(chunkIndex);
    if (waiting === reply) {
      this.#forget(streamId, chunks!, chunkIndex);
    } else if (Array.isArray(waiting)) {
      const index = waiting.indexOf(reply);
      if (index < 0) return false;
      waiting.splice(index, 1);
      if (waiting.length === 1) chunks!.set(chunkIndex, waiting[0]!);
    } else {
      return false;
    }
    this.#size--;
    return true;
  }

  /** Every waiting reply, oldest first per chunk; none waits afterwards. */
  drain(): R[] {
    const replies: R[] = [];
    for (const chunks of this.#byStream.values()) {
      for (const waiting of chunks.values()) {
        if (Array.isArray(waiting)) replies.push(...waiting);
        else replies.push(waiting);
      }
    }
    this.#byStream.clear();
    this.#size = 0;
    return replies;
  }

  #forget(streamId: Int64, chunks: Map<number, Waiting<R>>, chunkIndex: number): void {
    chunks.delete(chunkIndex);
    if (chunks.size === 0) this.#byStream.delete(streamId);
  }
}
