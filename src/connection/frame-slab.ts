/**
 * Where connection writers encode their frames: back to back into one slab shared by every writer
 * of the process (realm), so the frames one connection queues in one tick are already one
 * contiguous region — one socket write with no gather copy, no header buffer per message and no
 * chunk list per message — while an idle connection holds no slab at all.
 *
 * The slab is carved front to back and a region is never handed out twice: a writer's run of
 * frames is emitted as a view (`new Uint8Array(slab.buffer, ...)`) once something else must come
 * between (a passed-through body, a written-callback, a flush, or another writer carving the slab)
 * and its next frames continue wherever the slab's free part then begins. When a frame does not
 * fit, a fresh slab is started and the old one lives on only as long as a view of it is queued
 * somewhere. So bytes handed to a socket are never overwritten. A run shares its `ArrayBuffer`
 * with other runs, of this and of other connections: adapters write it as a view and never
 * transfer its buffer.
 *
 * One slab per process rather than one per writer: a 64 KiB slab kept by each of 10 000 idle
 * server connections was ~625 MiB of a server's memory (the `scale` bench row). Encoding is
 * synchronous, so writers never carve at the same time.
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

/** The slab every writer carves, and how far it is carved. */
const shared = { slab: EMPTY, view: EMPTY_VIEW, used: 0 };

export class FrameSlab<Target = undefined> implements FrameOutput {
  bytes: Uint8Array = EMPTY;
  view: DataView = EMPTY_VIEW;
  offset = 0;
  /** Bytes reserved or passed through since creation (callers take differences). */
  total = 0;

  readonly #emit: (chunk: Uint8Array, target: Target) => void;
  readonly #target: Target;
  /** The slab of the run not yet emitted (EMPTY when there is none). */
  #runSlab: Uint8Array = EMPTY;
  /** Start and end of that run. */
  #runStart = 0;
  #runEnd = 0;

  /**
   * `emit` receives runs of frames and passed-through chunks, in wire order, with `target` (so a
   * writer can pass one shared function instead of a closure of its own).
   */
  constructor(emit: (chunk: Uint8Array, target: Target) => void, target?: Target) {
    this.#emit = emit;
    this.#target = target as Target;
  }

  /** Bytes encoded into the slab but not yet emitted. */
  get openBytes(): number {
    return this.#runEnd - this.#runStart;
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
      this.#emit(bytes, this.#target);
      return;
    }
    if (shared.used + length > shared.slab.length) {
      shared.slab = new Uint8Array(SLAB_SIZE);
      shared.view = new DataView(shared.slab.buffer);
      shared.used = 0;
    }
    const at = shared.used;
    if (this.#runSlab !== shared.slab || this.#runEnd !== at) {
      // A new slab, or another writer carved behind this run: the run cannot grow in place.
      this.closeRun();
      this.#runSlab = shared.slab;
      this.#runStart = at;
    }
    shared.used = at + length;
    this.#runEnd = at + length;
    this.bytes = shared.slab;
    this.view = shared.view;
    this.offset = at;
  }

  passThrough(chunk: Uint8Array): void {
    this.total += chunk.length;
    this.closeRun();
    this.#emit(chunk, this.#target);
  }

  /** Emits the frames encoded since the last run as one view; holds no slab afterwards. */
  closeRun(): void {
    const slab = this.#runSlab;
    if (slab === EMPTY) return;
    const length = this.#runEnd - this.#runStart;
    const start = this.#runStart;
    this.#release();
    if (length > 0) {
      this.#emit(new Uint8Array(slab.buffer, slab.byteOffset + start, length), this.#target);
    }
  }

  /** Drops the open run (the writer closed). */
  discard(): void {
    this.#release();
  }

  #release(): void {
    this.#runSlab = EMPTY;
    this.#runStart = 0;
    this.#runEnd = 0;
    this.bytes = EMPTY;
    this.view = EMPTY_VIEW;
  }
}
