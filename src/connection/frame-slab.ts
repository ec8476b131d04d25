/**
 * Where a connection's writer encodes its frames: back to back into one slab, so the frames
 * queued in one tick are already one contiguous region — one socket write with no gather copy, no
 * header buffer per message and no chunk list per message.
 *
 * The slab is carved front to back and a region is never handed out twice: a run of frames is
 * emitted as a view (`new Uint8Array(slab.buffer, ...)`) once something else must come between
 * (a passed-through body, a written-callback, a flush) and the next frames continue behind it.
 * When a frame does not fit, a fresh slab is started and the old one lives on only as long as a
 * view of it is queued somewhere. So bytes handed to a socket are never overwritten. A run shares
 * its `ArrayBuffer` with other runs: adapters write it as a view and never transfer its buffer.
 *
 * @module
 */

import type { FrameOutput } from "../protocol/encoder.ts";

/** Bytes of each slab. */
const SLAB_SIZE = 64 * 1024;
/** Reservations above this get a buffer of their own (a huge error string, say). */
const DEDICATED_MIN = 16 * 1024;

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

export class FrameSlab implements FrameOutput {
  bytes: Uint8Array = EMPTY;
  view: DataView = EMPTY_VIEW;
  offset = 0;
  /** Bytes reserved or passed through since creation (callers take differences). */
  total = 0;

  readonly #emit: (chunk: Uint8Array) => void;
  #slab: Uint8Array = EMPTY;
  #slabView: DataView = EMPTY_VIEW;
  #used = 0;
  /** Start of the run not yet emitted. */
  #runStart = 0;

  /** `emit` receives runs of frames and passed-through chunks, in wire order. */
  constructor(emit: (chunk: Uint8Array) => void) {
    this.#emit = emit;
  }

  /** Bytes encoded into the slab but not yet emitted. */
  get openBytes(): number {
    return this.#used - this.#runStart;
  }

  reserve(length: number): void {
    this.total += length;
    if (length > DEDICATED_MIN) {
      this.closeRun();
      // Emitted now, filled by the encoder right after (synchronously, before anyone reads it).
      const bytes = new Uint8Array(length);
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer);
      this.offset = 0;
      this.#emit(bytes);
      return;
    }
    if (this.#used + length > this.#slab.length) {
      this.closeRun();
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabView = new DataView(this.#slab.buffer);
      this.#used = 0;
      this.#runStart = 0;
    }
    this.bytes = this.#slab;
    this.view = this.#slabView;
    this.offset = this.#used;
    this.#used += length;
  }

  passThrough(chunk: Uint8Array): void {
    this.total += chunk.length;
    this.closeRun();
    this.#emit(chunk);
  }

  /** Emits the frames encoded since the last run as one view. */
  closeRun(): void {
    const length = this.#used - this.#runStart;
    if (length === 0) return;
    const slab = this.#slab;
    this.#emit(new Uint8Array(slab.buffer, slab.byteOffset + this.#runStart, length));
    this.#runStart = this.#used;
  }

  /** Drops the open run (the writer closed); the slab itself is released. */
  discard(): void {
    this.#slab = EMPTY;
    this.#slabView = EMPTY_VIEW;
    this.bytes = EMPTY;
    this.view = EMPTY_VIEW;
    this.#used = 0;
    this.#runStart = 0;
  }
}
