/**
 * The chunk fetches of one `TransportClient`: `fetchChunk`, which hands the chunk's bytes over,
 * and `fetchChunkWith`, which lends them to a callback and then takes the buffer back for the
 * next large frame (Spark's `ChunkReceivedCallback` receiving a `ManagedBuffer`). Both are one
 * request with the same validation, deadline, abort and abandonment; they differ only in what
 * happens to the body once it has arrived.
 *
 * @module
 */

import type { Connection } from "../connection/connection.ts";
import { PendingReply } from "../connection/pending-reply.ts";
import { chunkKey } from "../connection/response-handler.ts";
import type { CallOptions } from "../deadline.ts";
import { InvalidArgumentError } from "../errors.ts";
import { canonicalInt64 } from "../protocol/int64.ts";
import { type Int64, MessageType } from "../protocol/messages.ts";
import { checkInt32 } from "./request-arguments.ts";
import type { RequestGate } from "./request-gate.ts";

/** Receives a lent chunk body; the body is valid until it returns or its promise settles. */
export type ChunkConsumer<T> = (body: Uint8Array) => T | PromiseLike<T>;

export class ChunkFetches {
  readonly #connection: Connection;
  readonly #gate: RequestGate;

  constructor(connection: Connection, gate: RequestGate) {
    this.#connection = connection;
    this.#gate = gate;
  }

  /** `TransportClient.fetchChunk`: resolves with the chunk's bytes, the caller's to keep. */
  fetch(
    streamId: Int64,
    chunkIndex: number,
    options: CallOptions | undefined,
    method = "fetchChunk",
  ): Promise<Uint8Array> {
    let id: Int64;
    try {
      id = canonicalInt64(streamId, `${method} streamId`);
    } catch (error) {
      return Promise.reject(error);
    }
    const invalidIndex = checkInt32(chunkIndex, `${method}: chunkIndex`, 0);
    if (invalidIndex !== undefined) return Promise.reject(invalidIndex);
    const refused = this.#gate.refuse("chunk fetch", options);
    if (refused !== undefined) return Promise.reject(refused);
    const deadline = this.#gate.deadline(options);
    const key = chunkKey(id, chunkIndex);
    const responses = this.#connection.responses;
    const reply = PendingReply.create<Uint8Array>();
    responses.addChunkFetch(key, reply);
    return this.#gate.issue(
      reply,
      { type: MessageType.ChunkFetchRequest, streamId: id, chunkIndex },
      () => responses.removeChunkFetch(key, reply),
      deadline,
      `Fetching chunk ${chunkIndex} of stream ${id} from ${this.#connection.peer}`,
      (reason) => ({ kind: "chunk", streamId: id, chunkIndex, reason }),
    );
  }

  /**
   * `TransportClient.fetchChunkWith`: fetches like {@linkcode fetch}, then lends the body to
   * `consume` and releases it once `consume` has returned (or its promise has settled), whatever
   * the outcome. Resolves with what `consume` returns; rejects with what it throws.
   */
  fetchWith<T>(
    streamId: Int64,
    chunkIndex: number,
    consume: ChunkConsumer<T>,
    options: CallOptions | undefined,
  ): Promise<T> {
    if (typeof consume !== "function") {
      return Promise.reject(
        new InvalidArgumentError(
          `fetchChunkWith: consume must be a function receiving the chunk's bytes, got ` +
            (consume === null ? "null" : typeof consume),
        ),
      );
    }
    const connection = this.#connection;
    return this.fetch(streamId, chunkIndex, options, "fetchChunkWith")
      .then((body) => lend(body, consume, connection));
  }
}

/** Runs `consume(body)` and releases `body` once `consume` is done with it. */
function lend<T>(
  body: Uint8Array,
  consume: ChunkConsumer<T>,
  connection: Connection,
): T | Promise<T> {
  let result: T | PromiseLike<T>;
  let later: boolean;
  try {
    result = consume(body);
    later = isThenable(result);
  } catch (error) {
    connection.releaseLentBody(body);
    throw error;
  }
  if (!later) {
    connection.releaseLentBody(body);
    return result as T;
  }
  return Promise.resolve(result).then(
    (value) => {
      connection.releaseLentBody(body);
      return value;
    },
    (error: unknown) => {
      connection.releaseLentBody(body);
      throw error;
    },
  );
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}
