/**
 * One pull interface over every shape of outbound raw body Ferry accepts (a `Uint8Array`, a sync
 * or async iterable of `Uint8Array`s, a `ReadableStream<Uint8Array>`), so the frame writer can pump
 * a StreamResponse or UploadStream body without caring where the bytes come from.
 *
 * Sync sources answer `next()` synchronously: pumping them costs no promise per chunk.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Raw body data, as callers hand it to `uploadStream` or a `StreamManager` returns it. */
export type BodyData =
  | Uint8Array
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>
  | ReadableStream<Uint8Array>;

/** Pull-based access to a body's chunks. */
export interface BodySource {
  /** The next chunk, or `undefined` at the end; a promise when the source is asynchronous. */
  next(): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Stop early and release the source (best effort, never throws). */
  cancel(reason: unknown): void;
}

/**
 * Adapts `data` to a {@linkcode BodySource}. Chunks are checked when pulled (the writer rejects
 * anything that is not a `Uint8Array`); the shape itself is checked here.
 *
 * @throws InvalidArgumentError when `data` is none of the accepted shapes.
 */
export function bodySource(data: BodyData, what: string): BodySource {
  if (data instanceof Uint8Array) return new SingleChunk(data);
  if (typeof ReadableStream !== "undefined" && data instanceof ReadableStream) {
    return new StreamChunks(data.getReader());
  }
  if (data !== null && typeof data === "object") {
    const asyncIterator = (data as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator];
    if (typeof asyncIterator === "function") {
      return new AsyncIteratorChunks(asyncIterator.call(data));
    }
    const iterator = (data as Partial<Iterable<Uint8Array>>)[Symbol.iterator];
    if (typeof iterator === "function") return new IteratorChunks(iterator.call(data));
  }
  throw new InvalidArgumentError(
    `${what}: expected a Uint8Array, an iterable or async iterable of Uint8Array, or a ` +
      `ReadableStream<Uint8Array>, got ${describeValue(data)}`,
  );
}

/** Renders a value's type for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

class SingleChunk implements BodySource {
  #chunk: Uint8Array | undefined;
  constructor(chunk: Uint8Array) {
    this.#chunk = chunk.byteLength > 0 ? chunk : undefined;
  }
  next(): Uint8Array | undefined {
    const chunk = this.#chunk;
    this.#chunk = undefined;
    return chunk;
  }
  cancel(): void {
    this.#chunk = undefined;
  }
}

class IteratorChunks implements BodySource {
  readonly #iterator: Iterator<Uint8Array>;
  #done = false;
  constructor(iterator: Iterator<Uint8Array>) {
    this.#iterator = iterator;
  }
  next(): Uint8Array | undefined {
    if (this.#done) return undefined;
    const result = this.#iterator.next();
    if (result.done) {
      this.#done = true;
      return undefined;
    }
    return result.value;
  }
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    try {
      this.#iterator.return?.();
    } catch {
      // The source is being abandoned; its cleanup error has nowhere useful to go.
    }
  }
}

class AsyncIteratorChunks implements BodySource {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #done = false;
  constructor(iterator: AsyncIterator<Uint8Array>) {
    this.#iterator = iterator;
  }
  async next(): Promise<Uint8Array | undefined> {
    if (this.#done) return undefined;
    const result = await this.#iterator.next();
    if (result.done) {
      this.#done = true;
      return undefined;
    }
    return result.value;
  }
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    try {
      this.#iterator.return?.()?.catch?.(() => {});
    } catch {
      // See IteratorChunks.cancel.
    }
  }
}

class StreamChunks implements BodySource {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #done = false;
  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#reader = reader;
  }
  async next(): Promise<Uint8Array | undefined> {
    if (this.#done) return undefined;
    const result = await this.#reader.read();
    if (result.done) {
      this.#done = true;
      this.#reader.releaseLock();
      return undefined;
    }
    return result.value;
  }
  cancel(reason: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#reader.cancel(reason).catch(() => {});
  }
}
