/**
 * Where a registered stream's chunks come from, and the two readers that serve them.
 *
 * - An `Iterable` / `AsyncIterable` of `Uint8Array` is read strictly in order, as Spark's
 *   `OneForOneStreamManager` does: chunk k can only be fetched after chunk k − 1. The reader
 *   prefetches one chunk ahead so it knows when the last chunk has been handed out and the stream
 *   can be released without waiting for the connection to close.
 * - A {@linkcode RandomAccessChunkSource} serves any chunk in any order, any number of times (a
 *   client can resume from chunk N); it lives until it is released.
 *
 * Releasing a reader runs the source's cleanup exactly once: `return()` on an iterator that has
 * not finished, `close()` on a random-access source.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Int64 } from "../protocol/messages.ts";
import { ChunkIndexError, ChunkSourceError } from "./stream-errors.ts";

/** A source that can produce any of its chunks, in any order, any number of times. */
export interface RandomAccessChunkSource {
  /** How many chunks the stream has (indices `0 … chunkCount − 1`). */
  readonly chunkCount: number;
  /** The bytes of chunk `index`; throw or reject to fail that fetch. */
  getChunk(index: number): Uint8Array | Promise<Uint8Array>;
  /** Called once when the stream is released (owner gone, explicit release, manager closed). */
  close?(): void;
  /**
   * Optional: `chunk`, which `getChunk` returned, has been written to the peer and nothing reads
   * it any more (the socket's OS write completed), so its memory may hold another chunk. Called at
   * most once per chunk returned, possibly after `close`; a chunk never offered back is simply
   * dropped. A source whose chunks share memory with anything else must not reuse it.
   */
  recycle?(chunk: Uint8Array): void;
}

/** Anything a stream can be registered from. */
export type ChunkSource =
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>
  | RandomAccessChunkSource;

/** Serves the chunks of one registered stream. */
export interface ChunkReader {
  /** Whether chunks must be fetched in order (iterables). */
  readonly sequential: boolean;
  /**
   * Starts reading chunk `index`. Throws synchronously when the index cannot be served (so the
   * caller can tell before anything changes); otherwise the promise settles with the bytes or a
   * {@linkcode ChunkSourceError}.
   */
  read(index: number): Promise<Uint8Array>;
  /** Offers back a chunk `read` produced, once written (`RandomAccessChunkSource.recycle`). */
  recycle(chunk: Uint8Array): void;
  /** Runs the source's cleanup once. Reads already started still settle. */
  release(): void;
}

/** Reports a cleanup (`return()` / `close()`) that threw or rejected. */
export type ReleaseErrorHandler = (error: unknown) => void;

const MAX_CHUNK_INDEX = 0x7fff_ffff;

/**
 * Builds the reader for `source`. `onEnd` is called once when an in-order source has handed out
 * its last chunk or failed, so the owner can forget the stream.
 *
 * @throws InvalidArgumentError when `source` is none of the accepted shapes.
 */
export function createChunkReader(
  streamId: Int64,
  source: ChunkSource,
  onEnd: () => void,
  onReleaseError: ReleaseErrorHandler,
): ChunkReader {
  if (source instanceof Uint8Array || typeof source === "string") {
    throw new InvalidArgumentError(
      `Cannot register stream ${streamId}: the source is a ${describeType(source)}, which would ` +
        `be read as one chunk per element; pass [bytes] for a single-chunk stream`,
    );
  }
  if (typeof source !== "object" || source === null) {
    throw new InvalidArgumentError(
      `Cannot register stream ${streamId}: expected an Iterable or AsyncIterable of Uint8Array ` +
        `or a { chunkCount, getChunk } source, got ${describeType(source)}`,
    );
  }
  if (Symbol.asyncIterator in source && typeof source[Symbol.asyncIterator] === "function") {
    return new SequentialChunkReader(
      streamId,
      source[Symbol.asyncIterator](),
      onEnd,
      onReleaseError,
    );
  }
  if (Symbol.iterator in source && typeof source[Symbol.iterator] === "function") {
    return new SequentialChunkReader(streamId, source[Symbol.iterator](), onEnd, onReleaseError);
  }
  const candidate = source as Partial<RandomAccessChunkSource>;
  if (typeof candidate.getChunk === "function") {
    const count = candidate.chunkCount;
    if (
      typeof count !== "number" || !Number.isInteger(count) || count < 0 ||
      count > MAX_CHUNK_INDEX + 1
    ) {
      throw new InvalidArgumentError(
        `Cannot register stream ${streamId}: chunkCount must be an integer in [0, 2^31], got ` +
          `${typeof count === "number" ? count : describeType(count)}`,
      );
    }
    return new RandomAccessChunkReader(streamId, source as RandomAccessChunkSource, onReleaseError);
  }
  throw new InvalidArgumentError(
    `Cannot register stream ${streamId}: expected an Iterable or AsyncIterable of Uint8Array or a ` +
      `{ chunkCount, getChunk } source, got an object with neither`,
  );
}

type AnyIterator = Iterator<Uint8Array> | AsyncIterator<Uint8Array>;

/** In-order reader over a (sync or async) iterator, one chunk of lookahead. */
class SequentialChunkReader implements ChunkReader {
  readonly sequential = true;
  readonly #streamId: Int64;
  readonly #iterator: AnyIterator;
  readonly #onEnd: () => void;
  readonly #onReleaseError: ReleaseErrorHandler;
  /** Index the next `read` must ask for. */
  #nextIndex = 0;
  /** The result for `#nextIndex`, already being pulled (lookahead); undefined before the first. */
  #pending: Promise<IteratorResult<Uint8Array>> | undefined;
  /** The iterator finished (done or threw): `return()` must not be called. */
  #exhausted = false;
  #released = false;

  constructor(
    streamId: Int64,
    iterator: AnyIterator,
    onEnd: () => void,
    onReleaseError: ReleaseErrorHandler,
  ) {
    this.#streamId = streamId;
    this.#iterator = iterator;
    this.#onEnd = onEnd;
    this.#onReleaseError = onReleaseError;
  }

  read(index: number): Promise<Uint8Array> {
    if (index !== this.#nextIndex) {
      throw new ChunkIndexError(
        `Received out-of-order chunk index ${index} (expected ${this.#nextIndex}) for stream ` +
          `${this.#streamId}`,
        this.#streamId,
        index,
      );
    }
    this.#nextIndex = index + 1;
    const current = this.#pending ?? this.#pull(index);
    // Lookahead: pull the following chunk as soon as this one is in, to learn whether it was the
    // last. Pulls are chained, so the iterator never has two `next()` calls in flight.
    const following = current.then((result) => result.done ? result : this.#pull(index + 1));
    this.#pending = following;
    // The stream ends when the lookahead finds the end, or when a chunk handed out here fails. A
    // lookahead that fails is reported to the read of the next index (which then ends it).
    following.then((result) => {
      if (result.done) this.#onEnd();
    }, ignore);
    current.then(undefined, () => this.#onEnd());
    return current.then((result) => {
      if (result.done) {
        throw new ChunkIndexError(
          `Requested chunk index beyond end ${index} (stream ${this.#streamId} has ${index} chunks)`,
          this.#streamId,
          index,
        );
      }
      return result.value;
    });
  }

  recycle(_chunk: Uint8Array): void {
    // Iterables hand their chunks over for good.
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#exhausted) return;
    this.#exhausted = true;
    const iterator = this.#iterator;
    if (typeof iterator.return !== "function") return;
    try {
      const returned = iterator.return();
      if (isPromiseLike(returned)) returned.then(undefined, this.#onReleaseError);
    } catch (error) {
      this.#onReleaseError(error);
    }
  }

  /** Calls `next()` once; validates the value. Never calls into a released or finished iterator. */
  #pull(index: number): Promise<IteratorResult<Uint8Array>> {
    if (this.#exhausted) return Promise.resolve({ done: true, value: undefined });
    let step: IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>>;
    try {
      step = this.#iterator.next();
    } catch (error) {
      return Promise.reject(this.#failed(index, error));
    }
    return Promise.resolve(step).then((result) => {
      if (result === null || typeof result !== "object") {
        throw this.#failed(
          index,
          new TypeError(`iterator.next() returned ${describeType(result)}, not an object`),
        );
      }
      if (result.done) {
        this.#exhausted = true;
        return result;
      }
      if (!(result.value instanceof Uint8Array)) {
        throw this.#broken(index, result.value);
      }
      return result;
    }, (error) => {
      throw this.#failed(index, error);
    });
  }

  #failed(index: number, error: unknown): ChunkSourceError {
    if (error instanceof ChunkSourceError) return error;
    this.#exhausted = true;
    return new ChunkSourceError(
      `Failed to read chunk ${index} of stream ${this.#streamId}: the source threw ` +
        describeThrown(error),
      this.#streamId,
      index,
      error,
    );
  }

  #broken(index: number, value: unknown): ChunkSourceError {
    // The iterator is still alive: stop it, since the stream cannot continue.
    const error = new ChunkSourceError(
      `Failed to read chunk ${index} of stream ${this.#streamId}: the source produced a ` +
        `${describeType(value)} instead of a Uint8Array`,
      this.#streamId,
      index,
    );
    this.release();
    return error;
  }
}

/** Any-order reader over a {@linkcode RandomAccessChunkSource}. */
class RandomAccessChunkReader implements ChunkReader {
  readonly sequential = false;
  readonly #streamId: Int64;
  readonly #source: RandomAccessChunkSource;
  readonly #chunkCount: number;
  readonly #onReleaseError: ReleaseErrorHandler;
  #released = false;

  constructor(
    streamId: Int64,
    source: RandomAccessChunkSource,
    onReleaseError: ReleaseErrorHandler,
  ) {
    this.#streamId = streamId;
    this.#source = source;
    this.#chunkCount = source.chunkCount;
    this.#onReleaseError = onReleaseError;
  }

  read(index: number): Promise<Uint8Array> {
    if (!Number.isInteger(index) || index < 0 || index >= this.#chunkCount) {
      throw new ChunkIndexError(
        `Requested chunk index ${index} is out of range: stream ${this.#streamId} has ` +
          `${this.#chunkCount} chunks`,
        this.#streamId,
        index,
      );
    }
    let chunk: Uint8Array | Promise<Uint8Array>;
    try {
      chunk = this.#source.getChunk(index);
    } catch (error) {
      return Promise.reject(this.#failed(index, error));
    }
    return Promise.resolve(chunk).then((value) => {
      if (!(value instanceof Uint8Array)) {
        throw new ChunkSourceError(
          `Failed to read chunk ${index} of stream ${this.#streamId}: the source produced a ` +
            `${describeType(value)} instead of a Uint8Array`,
          this.#streamId,
          index,
        );
      }
      return value;
    }, (error) => {
      throw this.#failed(index, error);
    });
  }

  recycle(chunk: Uint8Array): void {
    const source = this.#source;
    if (typeof source.recycle !== "function") return;
    try {
      source.recycle(chunk);
    } catch (error) {
      this.#onReleaseError(error);
    }
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (typeof this.#source.close !== "function") return;
    try {
      this.#source.close();
    } catch (error) {
      this.#onReleaseError(error);
    }
  }

  #failed(index: number, error: unknown): ChunkSourceError {
    return new ChunkSourceError(
      `Failed to read chunk ${index} of stream ${this.#streamId}: the source threw ` +
        describeThrown(error),
      this.#streamId,
      index,
      error,
    );
  }
}

function ignore(): void {}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return String(error);
  } catch {
    return "an unprintable value";
  }
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}
