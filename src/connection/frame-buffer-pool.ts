/**
 * The buffers a connection assembles large inbound frames in, reused for lent chunk bodies.
 *
 * The frame decoder asks for a buffer of exactly a frame's size whenever a frame spans received
 * chunks ({@linkcode FrameBufferPool.allocate}, its `allocate` option). A fresh ~1 MiB buffer per
 * chunk costs as much as receiving it where the runtime cannot skip zero-filling (Deno, browsers),
 * so a body lent to a caller (`TransportClient.fetchChunkWith`) comes back here once the caller is
 * done with it ({@linkcode FrameBufferPool.release}) and the next large frame is assembled in it.
 *
 * Safety rules, which keep a buffer from ever holding two things at once:
 * - Every buffer the pool hands out is *lent*: it goes back on the free list only through
 *   `release`, at most once per lending. A view of memory the pool did not hand out, a second
 *   release of the same lending, or a release of a buffer already free is ignored.
 * - A buffer nobody releases (an owned `fetchChunk` body, an RPC body) simply stays with its
 *   owner: the pool keeps no strong reference to lent buffers, so they are garbage collected as
 *   usual.
 * - Only buffers of their own (offset 0, spanning their whole `ArrayBuffer`) are pooled, and only
 *   frames of at least `minPooledSize` bytes: small frames are cheap to allocate.
 *
 * Retention is bounded (`maxRetainedBuffers`, `maxRetainedBytes`; over a bound the oldest free
 * buffer goes) so an idle connection holds little, and `close()` drops everything.
 *
 * Spare room: every pooled buffer is made `spareBytes` longer than the frame it is first made for,
 * and {@linkcode FrameBufferPool.spareAfter} tells the decoder how much of a lent buffer lies past
 * its frame. A socket that reads into the frame's tail may then read past the frame's end into
 * that room, so one read completes a frame and brings the start of the next (the decoder copies
 * those bytes out before it delivers the frame): without it, every frame's end is a read of its
 * own, and the next frame's head arrives in a read (and memory) of its own too.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

export interface FrameBufferPoolOptions {
  /** Fresh memory of exactly `size` bytes (default `new Uint8Array(size)`). */
  readonly allocateFresh?: (size: number) => Uint8Array;
  /** Frames smaller than this are never pooled (default 64 KiB). */
  readonly minPooledSize?: number;
  /** Free buffers kept at most (default 2). */
  readonly maxRetainedBuffers?: number;
  /** Bytes of free buffers kept at most (default 16 MiB). */
  readonly maxRetainedBytes?: number;
  /** Room past its frame a pooled buffer is made with (default 256 bytes; 0 for none). */
  readonly spareBytes?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Defaults of {@linkcode FrameBufferPoolOptions}. */
export const defaultFrameBufferPoolOptions = {
  minPooledSize: 64 * KiB,
  maxRetainedBuffers: 2,
  maxRetainedBytes: 16 * MiB,
  /**
   * Enough for the next frame's length and fixed fields (a ChunkFetchSuccess head is 21 bytes),
   * little enough that the start of its body, read there and copied twice, costs next to nothing.
   */
  spareBytes: 256,
} as const;

/** A free buffer is reused for a frame only if it is at most this many times the frame's size. */
const MAX_WASTE_FACTOR = 2;

const allocateZeroed = (size: number): Uint8Array => new Uint8Array(size);

export class FrameBufferPool {
  readonly minPooledSize: number;
  readonly maxRetainedBuffers: number;
  readonly maxRetainedBytes: number;
  readonly spareBytes: number;
  readonly #allocateFresh: (size: number) => Uint8Array;
  /** Buffers handed out and not yet released (weak: an unreleased one is its owner's to keep). */
  #lent = new WeakSet<ArrayBufferLike>();
  /** Released buffers ready for reuse, each a whole `ArrayBuffer`. */
  readonly #free: ArrayBufferLike[] = [];
  #retainedBytes = 0;
  #closed = false;

  constructor(options: FrameBufferPoolOptions = {}) {
    const defaults = defaultFrameBufferPoolOptions;
    this.minPooledSize = checkCount(options.minPooledSize, defaults.minPooledSize, "minPooledSize");
    this.maxRetainedBuffers = checkCount(
      options.maxRetainedBuffers,
      defaults.maxRetainedBuffers,
      "maxRetainedBuffers",
    );
    this.maxRetainedBytes = checkCount(
      options.maxRetainedBytes,
      defaults.maxRetainedBytes,
      "maxRetainedBytes",
    );
    this.spareBytes = checkCount(options.spareBytes, defaults.spareBytes, "spareBytes");
    this.#allocateFresh = options.allocateFresh ?? allocateZeroed;
  }

  /** Bytes held by free buffers (what an idle connection keeps). */
  get retainedBytes(): number {
    return this.#retainedBytes;
  }

  /** Free buffers held. */
  get retainedBuffers(): number {
    return this.#free.length;
  }

  /**
   * A buffer of exactly `size` bytes for a frame, shared with nothing else: a free buffer of at
   * least `size` (and at most twice that) when there is one, else fresh memory (uninitialized
   * where the runtime allows; the decoder overwrites every byte before reading any).
   */
  allocate(size: number): Uint8Array {
    if (size < this.minPooledSize || this.#closed) return this.#allocateFresh(size);
    const reused = this.#takeFree(size);
    if (reused !== undefined) {
      this.#lent.add(reused);
      return new Uint8Array(reused, 0, size);
    }
    const fresh = this.#allocateFresh(size + this.spareBytes);
    // Pool only memory that is a buffer of its own; anything else goes out untracked.
    if (fresh.byteOffset === 0 && fresh.buffer.byteLength === fresh.byteLength) {
      this.#lent.add(fresh.buffer);
    }
    return fresh.byteLength === size ? fresh : fresh.subarray(0, size);
  }

  /**
   * Bytes of `frame`'s buffer past its end that nothing else uses, at most `spareBytes`: `frame`
   * must be what `allocate` returned and is still lent (else 0). The decoder may read the bytes
   * after its frame there, and must copy them out before the frame's buffer changes hands.
   */
  spareAfter(frame: Uint8Array): number {
    if (frame.byteOffset !== 0 || !this.#lent.has(frame.buffer)) return 0;
    return Math.min(frame.buffer.byteLength - frame.byteLength, this.spareBytes);
  }

  /**
   * Gives back the buffer behind `bytes` (any view into a buffer this pool handed out). Ignored
   * for memory the pool did not hand out and for a lending already released. The caller must hold
   * no reference to the buffer afterwards: it will hold the next large frame.
   */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (!this.#lent.delete(buffer)) return;
    const capacity = buffer.byteLength;
    if (this.#closed || this.maxRetainedBuffers === 0 || capacity > this.maxRetainedBytes) return;
    // Over a bound, the oldest free buffers go: the latest frame size predicts the next best.
    const free = this.#free;
    while (
      free.length >= this.maxRetainedBuffers ||
      this.#retainedBytes + capacity > this.maxRetainedBytes
    ) {
      this.#retainedBytes -= free.shift()!.byteLength;
    }
    free.push(buffer);
    this.#retainedBytes += capacity;
  }

  /** Drops the free buffers and stops pooling (the connection closed). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#free.length = 0;
    this.#retainedBytes = 0;
    this.#lent = new WeakSet();
  }

  /**
   * Removes and returns the smallest free buffer that fits `size` without wasting over half (of
   * equals, the one given back last).
   */
  #takeFree(size: number): ArrayBufferLike | undefined {
    const free = this.#free;
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      const capacity = free[i]!.byteLength;
      if (capacity < size || capacity > size * MAX_WASTE_FACTOR) continue;
      // Of equals, the latest given back (the last): its memory is the likeliest still in cache.
      if (best < 0 || capacity <= free[best]!.byteLength) best = i;
    }
    if (best < 0) return undefined;
    const buffer = free[best]!;
    free.splice(best, 1);
    this.#retainedBytes -= buffer.byteLength;
    return buffer;
  }
}

function checkCount(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `Cannot create FrameBufferPool: ${name} must be an integer ≥ 0, got ${String(value)}`,
    );
  }
  return value;
}
