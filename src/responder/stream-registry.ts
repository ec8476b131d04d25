/**
 * The registered streams of one {@linkcode OneForOneStreamManager}, by id and by owner, with the
 * two registration limits charged before a stream is created: `maxStreamsPerOwner` (one
 * connection or principal) and `maxStreams` (every owner; a stream often holds a descriptor).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Int64 } from "../protocol/messages.ts";
import type { ChunkReader } from "./chunk-source.ts";
import { describeOwner, type StreamOwner } from "./stream-owner.ts";

/** One registered stream. */
export interface RegisteredStream {
  readonly id: Int64;
  readonly owner: StreamOwner;
  reader: ChunkReader | undefined;
  released: boolean;
  unwatch: (() => void) | undefined;
}

export class StreamRegistry {
  readonly #streams = new Map<Int64, RegisteredStream>();
  readonly #byOwner = new Map<StreamOwner, Set<RegisteredStream>>();
  readonly #maxStreamsPerOwner: number;
  readonly #maxStreams: number;

  /** @throws InvalidArgumentError unless both limits are positive safe integers. */
  constructor(maxStreamsPerOwner: number, maxStreams: number) {
    if (!Number.isSafeInteger(maxStreamsPerOwner) || maxStreamsPerOwner < 1) {
      throw new InvalidArgumentError(
        `Invalid maxStreamsPerOwner: expected a positive integer, got ${
          String(maxStreamsPerOwner)
        }`,
      );
    }
    this.#maxStreamsPerOwner = maxStreamsPerOwner;
    if (!Number.isSafeInteger(maxStreams) || maxStreams < 1) {
      throw new InvalidArgumentError(
        `Invalid maxStreams: expected a positive integer, got ${String(maxStreams)}`,
      );
    }
    this.#maxStreams = maxStreams;
  }

  /** Registered streams not yet released. */
  get size(): number {
    return this.#streams.size;
  }

  /** `id` must be canonical (see `canonicalStreamId`). */
  get(id: Int64): RegisteredStream | undefined {
    return this.#streams.get(id);
  }

  /** `id` must be canonical (see `canonicalStreamId`). */
  has(id: Int64): boolean {
    return this.#streams.has(id);
  }

  add(stream: RegisteredStream): void {
    this.#streams.set(stream.id, stream);
    let owned = this.#byOwner.get(stream.owner);
    if (owned === undefined) this.#byOwner.set(stream.owner, owned = new Set());
    owned.add(stream);
  }

  remove(stream: RegisteredStream): void {
    this.#streams.delete(stream.id);
    const owned = this.#byOwner.get(stream.owner);
    if (owned !== undefined) {
      owned.delete(stream);
      if (owned.size === 0) this.#byOwner.delete(stream.owner);
    }
  }

  /** A copy: releasing them while iterating removes them from the registry. */
  ownedBy(owner: StreamOwner): RegisteredStream[] | undefined {
    const owned = this.#byOwner.get(owner);
    return owned === undefined ? undefined : [...owned];
  }

  /** A copy, as {@linkcode ownedBy}. */
  all(): RegisteredStream[] {
    return [...this.#streams.values()];
  }

  /**
   * Why `owner` may not register a stream now, counting `reserved` more streams of that owner and
   * `reservedTotal` more over all owners; undefined when it may.
   */
  refusal(owner: StreamOwner, reserved: number, reservedTotal: number): string | undefined {
    const registered = (this.#byOwner.get(owner)?.size ?? 0) + reserved;
    if (registered >= this.#maxStreamsPerOwner) {
      return `Cannot register a stream for ${describeOwner(owner)}: it already has ` +
        `${registered} streams registered, the limit (maxStreamsPerOwner ` +
        `${this.#maxStreamsPerOwner}); read or release some first`;
    }
    const total = this.#streams.size + reservedTotal;
    if (total >= this.#maxStreams) {
      return `Cannot register a stream for ${describeOwner(owner)}: the server already has ` +
        `${total} streams registered, the limit (maxStreams ${this.#maxStreams}); retry later`;
    }
    return undefined;
  }
}
