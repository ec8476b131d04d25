/**
 * Errors a stream manager raises while answering ChunkFetchRequest and StreamRequest. The server
 * sends their `message` to the peer (ChunkFetchFailure / StreamFailure), so messages name the
 * request and the reason, and never reveal whether a stream exists for somebody else.
 *
 * @module
 */

import { InvalidArgumentError, TransportError } from "../errors.ts";
import type { Int64 } from "../protocol/messages.ts";

/**
 * No stream the requester may read has this id: it was never registered, was read to the end,
 * was released, or belongs to another connection. The text is the same in every case, so a peer
 * cannot probe for other connections' stream ids.
 *
 * @example
 * ```ts
 * import { UnknownStreamError } from "ferry-transport";
 *
 * const error = UnknownStreamError.forChunk(7n, 3);
 * console.log(error.code, error.streamId); // "ERR_INVALID_ARGUMENT" 7n
 * ```
 */
export class UnknownStreamError extends InvalidArgumentError {
  /** The id asked for: an int64 for chunk fetches, the StreamRequest id for streams. */
  readonly streamId: Int64 | string;

  constructor(message: string, streamId: Int64 | string) {
    super(message);
    this.streamId = streamId;
  }

  /** For a ChunkFetchRequest. */
  static forChunk(streamId: Int64, chunkIndex: number): UnknownStreamError {
    return new UnknownStreamError(
      `Cannot fetch chunk ${chunkIndex} of stream ${streamId}: no such stream is open on this ` +
        `connection (never registered, already read to the end, or released)`,
      streamId,
    );
  }

  /** For a StreamRequest; Spark's text, which Spark's own clients match on. */
  static forStream(streamId: string): UnknownStreamError {
    return new UnknownStreamError(`Stream '${streamId}' was not found.`, streamId);
  }
}

/**
 * A chunk index the stream cannot serve: out of order for an in-order stream, or out of range.
 *
 * @example
 * ```ts
 * import { ChunkIndexError, TransportServer } from "ferry-transport";
 *
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   onHandlerError(error, context) {
 *     if (error instanceof ChunkIndexError) {
 *       console.log(`${context}: chunk ${error.chunkIndex} of stream ${error.streamId}`);
 *     }
 *   },
 * });
 * await server.close();
 * ```
 */
export class ChunkIndexError extends InvalidArgumentError {
  readonly streamId: Int64;
  readonly chunkIndex: number;

  constructor(message: string, streamId: Int64, chunkIndex: number) {
    super(message);
    this.streamId = streamId;
    this.chunkIndex = chunkIndex;
  }
}

/**
 * A chunk source failed (threw, rejected) or broke its contract (produced something other than a
 * `Uint8Array`). `cause` is what the source threw.
 *
 * @example
 * ```ts
 * import { ChunkSourceError, TransportServer } from "ferry-transport";
 *
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   onHandlerError(error) {
 *     if (error instanceof ChunkSourceError) {
 *       console.log(`chunk ${error.chunkIndex} of ${error.streamId} failed:`, error.cause);
 *     }
 *   },
 * });
 * await server.close();
 * ```
 */
export class ChunkSourceError extends TransportError {
  readonly streamId: Int64;
  readonly chunkIndex: number;

  constructor(message: string, streamId: Int64, chunkIndex: number, cause?: unknown) {
    super(message, { cause });
    this.streamId = streamId;
    this.chunkIndex = chunkIndex;
  }
}
