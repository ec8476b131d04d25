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
  ): Promise<Uint8Array> {
    const reply = PendingReply.create<Uint8Array>();
    const refused = this.#request(streamId, chunkIndex, options, "fetchChunk", reply);
    return refused === undefined ? reply.promise! : Promise.reject(refused);
  }

  /**
   * `TransportClient.fetchChunkWith`: fetches like {@linkcode fetch}, then lends the body to
   * `consume` (in a microtask, never inside the decoder) and releases it once `consume` has
   * returned (or its promise has settled), whatever the outcome. Resolves with what `consume`
   * returns; rejects with what it throws.
   *
   * No object made when the request was sent ever refers to the body: the reply waiting for it
   * hands it straight on, and the promise the caller holds settles with `consume`'s result. A
   * request lives long enough for V8 to move its objects to the old generation; had one of them
   * held the body (as `fetchChunk`'s promise must), the young body would survive every scavenge
   * until the next full collection.
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
    const result = PendingReply.create<T>();
    const reply = new PendingReply<Uint8Array>(
      (body) => queueMicrotask(() => lend(body, consume, connection, result)),
      (error) => result.reject(error),
    );
    const refused = this.#request(streamId, chunkIndex, options, "fetchChunkWith", reply);
    return refused === undefined ? result.promise! : Promise.reject(refused);
  }

  /**
   * Validates, registers `reply` and sends the request; returns why it was refused, if it was.
   * A request that fails to send rejects `reply` instead. Messages and closures that only an error
   * or a deadline needs are made only then: this runs once per chunk of a bulk fetch.
   */
  #request(
    streamId: Int64,
    chunkIndex: number,
    options: CallOptions | undefined,
    method: string,
    reply: PendingReply<Uint8Array>,
  ): unknown {
    let id = streamId;
    if (typeof streamId !== "number" || !Number.isSafeInteger(streamId)) {
      try {
        id = canonicalInt64(streamId, `${method} streamId`);
      } catch (error) {
        return error;
      }
    }
    if (!isChunkIndex(chunkIndex)) return checkInt32(chunkIndex, `${method}: chunkIndex`, 0);
    const refused = this.#gate.refuse("chunk fetch", options);
    if (refused !== undefined) return refused;
    const deadline = this.#gate.deadline(options);
    const responses = this.#connection.responses;
    responses.addChunkFetch(id, chunkIndex, reply);
    try {
      this.#connection.send({ type: MessageType.ChunkFetchRequest, streamId: id, chunkIndex });
    } catch (error) {
      responses.removeChunkFetch(id, chunkIndex, reply);
      reply.reject(error);
      return undefined;
    }
    if (deadline !== undefined) {
      this.#gate.arm(
        reply,
        deadline,
        `Fetching chunk ${chunkIndex} of stream ${id} from ${this.#connection.peer}`,
        () => responses.removeChunkFetch(id, chunkIndex, reply),
        (reason) => ({ kind: "chunk", streamId: id, chunkIndex, reason }),
      );
    }
    return undefined;
  }
}

/** A valid chunk index: an integer from 0 to 2^31 − 1. */
function isChunkIndex(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= 0x7fff_ffff;
}

/** Runs `consume(body)`, releases `body` once `consume` is done with it, and settles `result`. */
function lend<T>(
  body: Uint8Array,
  consume: ChunkConsumer<T>,
  connection: Connection,
  result: PendingReply<T>,
): void {
  let value: T | PromiseLike<T>;
  try {
    value = consume(body);
  } catch (error) {
    connection.releaseLentBody(body);
    result.reject(error);
    return;
  }
  if (!isThenable(value)) {
    connection.releaseLentBody(body);
    result.resolve(value);
    return;
  }
  Promise.resolve(value).then(
    (settled) => {
      connection.releaseLentBody(body);
      result.resolve(settled);
    },
    (error: unknown) => {
      connection.releaseLentBody(body);
      result.reject(error);
    },
  );
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}
