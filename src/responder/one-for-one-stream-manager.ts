/**
 * `OneForOneStreamManager` — Spark's stream manager: a server registers a stream of chunks for a
 * connection, replies with the stream id (typically in an RPC response), and the peer fetches the
 * chunks with ChunkFetchRequest or as streams named `<streamId>_<chunkIndex>`.
 *
 * Differences from Spark's, on purpose:
 * - Stream ids are random 63-bit values (not a counter), so they cannot be guessed; they are
 *   bound to the owning connection (or an authenticated principal), and any other requester gets
 *   exactly the failure text an id that never existed gets.
 * - Besides in-order iterables it accepts random-access sources (resume from chunk N).
 * - Transfer accounting (`chunkBeingSent`/`chunkSent`, `chunksBeingTransferred()`) is per
 *   connection, so a closed connection's unfinished writes stop counting. `TransportServer`
 *   enforces the server-wide cap itself (a failure reply, where Spark closes the connection); the
 *   optional `maxChunksBeingTransferred` here caps this manager's own transfers on top of that.
 * - StreamRequest ids that are not chunk ids can be served by an injected `openNamedStream`.
 *
 * @module
 */

import type { Peer } from "./peer.ts";
import { InvalidArgumentError, LimitError, TransportError } from "../errors.ts";
import type { Int64 } from "../protocol/messages.ts";
import { defaultLimits } from "../limits.ts";
import { type ChunkSource, createChunkReader } from "./chunk-source.ts";
import { UnknownStreamError } from "./stream-errors.ts";
import { canonicalStreamId, parseStreamChunkId, randomStreamId } from "./stream-ids.ts";
import type { StreamBody, StreamManager } from "./stream-manager.ts";
import { type RegisteredStream, StreamRegistry } from "./stream-registry.ts";
import {
  assertRegistrableOwner,
  mayRead,
  type PrincipalOf,
  type StreamOwner,
} from "./stream-owner.ts";
import { TransferCounts } from "./transfer-counts.ts";

export type { StreamOwner } from "./stream-owner.ts";

/** Per-stream options of {@linkcode OneForOneStreamManager.registerStream}. */
export interface RegisterStreamOptions {
  /**
   * Release the stream when this aborts — e.g. `AbortSignal.timeout(ms)` to bound how long a
   * principal-owned stream waits for a reader.
   */
  readonly signal?: AbortSignal;
}

/**
 * Serves StreamRequest ids that are not `<streamId>_<chunkIndex>`. Return `undefined` for an id it
 * does not know (the requester gets Spark's `Stream '<id>' was not found.`), or throw to fail with
 * another message.
 */
export type NamedStreamOpener = (
  streamId: string,
  client: Peer,
) => StreamBody | undefined | Promise<StreamBody | undefined>;

export interface OneForOneStreamManagerOptions {
  /**
   * Chunks and streams of this manager in transfer (all connections) at which its `getChunk` and
   * `openStream` reject with a `LimitError`. Default: no cap of its own, since `TransportServer`
   * already applies the server-wide `maxChunksBeingTransferred`.
   */
  readonly maxChunksBeingTransferred?: number;
  /**
   * Streams one owner (connection or principal) may have registered and not yet released;
   * `registerStream` beyond it throws a `LimitError`. Default `defaultLimits.maxStreamsPerConnection`.
   */
  readonly maxStreamsPerOwner?: number;
  /**
   * Streams registered and not yet released over every owner; `registerStream` beyond it throws a
   * `LimitError`. A stream often holds a descriptor (a file-service open), so this keeps the
   * process's descriptors from running out before anything else. Default
   * `defaultLimits.maxStreams`.
   */
  readonly maxStreams?: number;
  /** Serves StreamRequest ids that are not chunk ids. */
  readonly openNamedStream?: NamedStreamOpener;
  /** The authenticated principal of a connection; required to register principal-owned streams. */
  readonly principalOf?: (client: Peer) => string | undefined;
  /** A source's cleanup (`return()` / `close()`) threw or rejected. Default: counted in `stats()`. */
  readonly onReleaseError?: (error: unknown, streamId: Int64) => void;
  /** Fills bytes with random values (default `crypto.getRandomValues`); for tests. */
  readonly fillRandom?: (bytes: Uint8Array) => void;
}

/** A snapshot of a manager's state. */
export interface StreamManagerStats {
  /** Registered streams not yet released. */
  readonly streams: number;
  /** Chunks and streams being written now, all connections. */
  readonly chunksBeingTransferred: number;
  /** Source cleanups that threw or rejected. */
  readonly releaseErrors: number;
}

/**
 * Spark's `OneForOneStreamManager`, with random connection-bound ids and load shedding.
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, TransportServer } from "ferry-transport";
 *
 * const streams = new OneForOneStreamManager();
 * const server = new TransportServer({
 *   rpcHandler: {
 *     receive(client) {
 *       // Register 3 chunks for this connection and tell the client the stream id.
 *       const id = streams.registerStream(client, {
 *         chunkCount: 3,
 *         getChunk: (index) => new Uint8Array(1024).fill(index),
 *       });
 *       return new TextEncoder().encode(String(id));
 *     },
 *   },
 *   streamManager: streams,
 * });
 * await server.close();
 * ```
 */
export class OneForOneStreamManager implements StreamManager {
  readonly #streams: StreamRegistry;
  readonly #transfers = new TransferCounts();
  #releaseErrors = 0;
  readonly #maxChunksBeingTransferred: number;
  readonly #openNamedStream: NamedStreamOpener | undefined;
  readonly #principalOf: PrincipalOf | undefined;
  readonly #onReleaseError: ((error: unknown, streamId: Int64) => void) | undefined;
  readonly #fillRandom: (bytes: Uint8Array) => void;
  readonly #idBytes = new Uint8Array(8);

  constructor(options: OneForOneStreamManagerOptions = {}) {
    const max = options.maxChunksBeingTransferred ?? Infinity;
    if (!(Number.isInteger(max) && max > 0) && max !== Infinity) {
      throw new InvalidArgumentError(
        `Invalid maxChunksBeingTransferred: expected a positive integer or Infinity, got ${max}`,
      );
    }
    this.#maxChunksBeingTransferred = max;
    this.#streams = new StreamRegistry(
      options.maxStreamsPerOwner ?? defaultLimits.maxStreamsPerConnection,
      options.maxStreams ?? defaultLimits.maxStreams,
    );
    this.#openNamedStream = options.openNamedStream;
    this.#principalOf = options.principalOf;
    this.#onReleaseError = options.onReleaseError;
    this.#fillRandom = options.fillRandom ?? ((bytes) => crypto.getRandomValues(bytes));
  }

  /** Spark's chunk-as-stream id: `<streamId>_<chunkIndex>`. */
  static streamChunkId(streamId: Int64, chunkIndex: number): string {
    return `${streamId}_${chunkIndex}`;
  }

  /** Parses `<streamId>_<chunkIndex>` (int64, int32); `undefined` for any other id. */
  static parseStreamChunkId(id: string): { streamId: Int64; chunkIndex: number } | undefined {
    return parseStreamChunkId(id);
  }

  /**
   * Registers a stream and returns its id (random 63-bit, unique among live streams).
   *
   * - An `Iterable`/`AsyncIterable` is served strictly in order and released after its last chunk.
   * - A {@linkcode RandomAccessChunkSource} is served in any order until it is released.
   *
   * Either is released (iterator `return()`, source `close()`) when its owner connection closes,
   * on `releaseStream`/`releaseOwner`/`releaseAll`, or when `options.signal` aborts.
   *
   * @throws InvalidArgumentError for an unusable owner or source; ConnectionClosedError when the
   *   owner connection is already closed; the signal's reason when it has already aborted (the
   *   source is not touched in any of these cases).
   */
  registerStream(
    owner: StreamOwner,
    source: ChunkSource,
    options: RegisterStreamOptions = {},
  ): Int64 {
    assertRegistrableOwner(owner, this.#principalOf);
    const signal = options.signal;
    signal?.throwIfAborted();
    this.assertCanRegister(owner);

    const id = this.#newStreamId();
    const state: RegisteredStream = {
      id,
      owner,
      reader: undefined,
      released: false,
      unwatch: undefined,
    };
    state.reader = createChunkReader(
      id,
      source,
      () => this.#release(state),
      (error) => this.#releaseFailed(error, id),
    );
    this.#streams.add(state);
    if (signal !== undefined) {
      const onAbort = () => this.#release(state);
      signal.addEventListener("abort", onAbort, { once: true });
      state.unwatch = () => signal.removeEventListener("abort", onAbort);
    }
    return id;
  }

  /**
   * Throws the `LimitError` `registerStream` would throw for `owner` now, counting `reserved` more
   * streams of that owner and `reservedTotal` more over all owners (registrations a caller has
   * started but not finished). A caller that opens something costly (a descriptor) before
   * registering it asks first, so a refused open never opens anything.
   */
  assertCanRegister(owner: StreamOwner, reserved = 0, reservedTotal = reserved): void {
    const refusal = this.registerRefusal(owner, reserved, reservedTotal);
    if (refusal !== undefined) throw new LimitError(refusal);
  }

  /**
   * What {@linkcode assertCanRegister} would throw, as text, or undefined when `owner` may
   * register. For callers that refuse many requests in a burst (thousands of opens at the cap):
   * no error object is built for each.
   */
  registerRefusal(owner: StreamOwner, reserved = 0, reservedTotal = reserved): string | undefined {
    return this.#streams.refusal(owner, reserved, reservedTotal);
  }

  getChunk(streamId: Int64, chunkIndex: number, client: Peer): Promise<Uint8Array> {
    try {
      this.#checkCapacity(`chunk ${chunkIndex} of stream ${streamId}`);
      const state = this.#readable(streamId, client);
      if (state === undefined) throw UnknownStreamError.forChunk(streamId, chunkIndex);
      return state.reader!.read(chunkIndex);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  openStream(streamId: string, client: Peer): Promise<StreamBody> {
    try {
      this.#checkCapacity(`stream '${streamId}'`);
      const chunkId = OneForOneStreamManager.parseStreamChunkId(streamId);
      if (chunkId === undefined) return this.#openNamed(streamId, client);
      const state = this.#readable(chunkId.streamId, client);
      if (state === undefined) throw UnknownStreamError.forStream(streamId);
      return state.reader!.read(chunkId.chunkIndex).then(chunkBody);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Releases every stream the connection owns and forgets the transfers it still counted. */
  connectionTerminated(client: Peer): void {
    this.releaseOwner(client);
    this.#transfers.forget(client);
  }

  /**
   * The peer cancelled a fetch of this chunk (Ferry cancel): an in-order stream cannot go on
   * without it (its source has moved past it), so it is released; a random-access one stays, so
   * the chunk can be fetched again.
   */
  chunkCancelled(streamId: Int64, _chunkIndex: number, client: Peer): void {
    const state = this.#readable(streamId, client);
    if (state?.reader?.sequential) this.#release(state);
  }

  /** Offers `chunk` back to its stream's source (`RandomAccessChunkSource.recycle`). */
  recycleChunk(streamId: Int64, chunk: Uint8Array, client: Peer): void {
    this.#readable(streamId, client)?.reader?.recycle(chunk);
  }

  chunkBeingSent(_streamId: Int64, client?: Peer): void {
    this.#transfers.started(client);
  }

  chunkSent(_streamId: Int64, client?: Peer): void {
    this.#transfers.ended(client);
  }

  streamBeingSent(_streamId: string, client?: Peer): void {
    this.#transfers.started(client);
  }

  streamSent(_streamId: string, client?: Peer): void {
    this.#transfers.ended(client);
  }

  chunksBeingTransferred(): number {
    return this.#transfers.total;
  }

  /** Releases one stream. Returns whether it was registered. */
  releaseStream(streamId: Int64): boolean {
    const state = this.#streams.get(canonicalStreamId(streamId));
    if (state === undefined) return false;
    this.#release(state);
    return true;
  }

  /** Releases every stream of a connection or principal. Returns how many. */
  releaseOwner(owner: StreamOwner): number {
    const states = this.#streams.ownedBy(owner);
    if (states === undefined) return 0;
    for (const state of states) this.#release(state);
    return states.length;
  }

  /** Releases every stream (e.g. when the server shuts down). Returns how many. */
  releaseAll(): number {
    const states = this.#streams.all();
    for (const state of states) this.#release(state);
    return states.length;
  }

  /** Whether a stream is registered and not yet released. */
  has(streamId: Int64): boolean {
    return this.#streams.has(canonicalStreamId(streamId));
  }

  stats(): StreamManagerStats {
    return {
      streams: this.#streams.size,
      chunksBeingTransferred: this.#transfers.total,
      releaseErrors: this.#releaseErrors,
    };
  }

  #readable(streamId: Int64, client: Peer): RegisteredStream | undefined {
    const state = this.#streams.get(canonicalStreamId(streamId));
    return state !== undefined && mayRead(state.owner, client, this.#principalOf)
      ? state
      : undefined;
  }

  #openNamed(streamId: string, client: Peer): Promise<StreamBody> {
    const open = this.#openNamedStream;
    if (open === undefined) return Promise.reject(UnknownStreamError.forStream(streamId));
    return Promise.resolve(open(streamId, client)).then((body) => {
      if (body === undefined) throw UnknownStreamError.forStream(streamId);
      const length = body.byteLength;
      if (!Number.isSafeInteger(length) || length < 0) {
        body.release?.();
        throw new TransportError(
          `Cannot serve stream '${streamId}': the opener returned byteLength ${length}, expected ` +
            `a non-negative safe integer`,
        );
      }
      return body;
    });
  }

  #checkCapacity(what: string): void {
    const inTransfer = this.#transfers.total;
    if (inTransfer >= this.#maxChunksBeingTransferred) {
      throw new LimitError(
        `Refused to serve ${what}: ${inTransfer} chunks are being transferred, ` +
          `at this stream manager's limit of ${this.#maxChunksBeingTransferred} ` +
          `(maxChunksBeingTransferred); retry later`,
      );
    }
  }

  #release(state: RegisteredStream): void {
    if (state.released) return;
    state.released = true;
    this.#streams.remove(state);
    state.unwatch?.();
    state.unwatch = undefined;
    state.reader?.release();
  }

  #releaseFailed(error: unknown, streamId: Int64): void {
    this.#releaseErrors++;
    if (this.#onReleaseError === undefined) return;
    try {
      this.#onReleaseError(error, streamId);
    } catch {
      // A failing error callback must not break the release of the other streams.
    }
  }

  #newStreamId(): Int64 {
    const streams = this.#streams;
    return randomStreamId(this.#idBytes, this.#fillRandom, (id) => streams.has(id), streams.size);
  }
}

function chunkBody(chunk: Uint8Array): StreamBody {
  return { byteLength: chunk.byteLength, body: [chunk] };
}
