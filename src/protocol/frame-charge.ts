/**
 * What a {@linkcode FrameDecoder} owes its `memory` option: the charge of the one frame it
 * assembles in a buffer of its own (charged before the buffer is allocated, released once the
 * frame is complete or abandoned), and, while the memory has no room for it, the frame's first
 * bytes and every chunk that arrived after them, until the host grants the room.
 *
 * @module
 */

import type { FrameMemory } from "./frame-handler.ts";

const EMPTY = new Uint8Array(0);
const NONE: readonly Uint8Array[] = [];

export class FrameCharge {
  readonly #memory: FrameMemory | undefined;
  #charged = 0;
  #start: Uint8Array = EMPTY;
  /** Made by the first `hold` (most decoders never wait for room). */
  #held: Uint8Array[] | undefined;

  constructor(memory: FrameMemory | undefined) {
    this.#memory = memory;
  }

  /**
   * Charges `size` bytes for a frame beginning with `start`. `false`: no room; `start` is kept
   * until {@linkcode FrameCharge.granted}.
   */
  reserve(size: number, start: Uint8Array): boolean {
    const memory = this.#memory;
    if (memory === undefined) return true;
    if (memory.reserve(size)) {
      this.#charged = size;
      return true;
    }
    this.#start = start;
    return false;
  }

  /** Keeps bytes that arrived while waiting for room. */
  hold(chunk: Uint8Array): void {
    (this.#held ??= []).push(chunk);
  }

  /** The host charged `size` on the decoder's behalf: hands back what was kept, once. */
  granted(size: number): { readonly start: Uint8Array; readonly held: readonly Uint8Array[] } {
    this.#charged = size;
    const kept = { start: this.#start, held: this.#held ?? NONE };
    this.#start = EMPTY;
    this.#held = undefined;
    return kept;
  }

  /** The frame is complete (its buffer belongs to its receiver now) or abandoned. */
  release(): void {
    const charged = this.#charged;
    if (charged === 0) return;
    this.#charged = 0;
    this.#memory!.release(charged);
  }

  /** The decoder stopped: the charge goes back and what was kept is dropped. */
  drop(): void {
    this.release();
    this.#start = EMPTY;
    this.#held = undefined;
  }
}
