/**
 * The decoder's `"frame"` state: one frame (after its length field) assembled in a buffer of its
 * own, either copied together from the chunks holding it or read straight into the buffer
 * (`FrameDecoder.readBuffer`, so a large body needs no copy).
 *
 * A read may run past the frame's end into room the allocator left after it
 * (`FrameAllocator.spareAfter`), so the read that finishes a chunk brings the next frame's head as
 * well. What lands there is copied out and zeroed before the frame is delivered: nothing delivered
 * later points into a buffer that its receiver may give back to a pool. Bytes that only begin the
 * next frame ({@linkcode onlyBeginsFrame}) may wait to be decoded until that buffer came back.
 *
 * @module
 */

import { TransportError } from "../errors.ts";
import type { FrameAllocator } from "./frame-handler.ts";
import { readInt64 } from "./int64.ts";
import { LENGTH_FIELD, MIN_FRAME_LENGTH } from "./frame-limits.ts";

/** Frames with at least this much left to receive are read straight into their buffer. */
export const DIRECT_READ_MIN = 16 * 1024;
/** No bytes (what an assembly holds between frames). */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** One frame being assembled; made by a decoder with its first frame that spans chunks. */
export class FrameAssembly {
  #frame: Uint8Array = EMPTY;
  #filled = 0;
  /** Bytes of `#frame`'s buffer after it that reads may fill (`FrameAllocator.spareAfter`). */
  #spare = 0;
  /** Whether the last chunk taken had been read into the frame's buffer itself. */
  #inPlace = false;

  /**
   * Starts a `frameSize`-byte frame in a buffer from `allocator`, beginning with `start`.
   * @throws TransportError when the allocator returns a buffer of another size.
   */
  begin(allocator: FrameAllocator, frameSize: number, start: Uint8Array): void {
    const frame = allocator.allocate(frameSize);
    if (frame.length !== frameSize) {
      throw new TransportError(
        `FrameDecoder: the allocate option returned ${frame.length} bytes for a frame of ` +
          `${frameSize}`,
      );
    }
    frame.set(start);
    this.#frame = frame;
    this.#filled = start.length;
    this.#spare = allocator.spareAfter?.(frame) ?? 0;
  }

  /** Drops the frame's buffer (its connection failed). */
  drop(): void {
    this.#frame = EMPTY;
  }

  /** Takes what the frame still needs of `chunk[offset, end)`; returns the offset after it. */
  take(chunk: Uint8Array, offset: number, end: number): number {
    const frame = this.#frame;
    const count = Math.min(frame.length - this.#filled, end - offset);
    const inPlace = offset === 0 && chunk.buffer === frame.buffer &&
      chunk.byteOffset === frame.byteOffset + this.#filled;
    if (!inPlace) {
      frame.set(
        offset === 0 && count === end ? chunk : chunk.subarray(offset, offset + count),
        this.#filled,
      );
    }
    this.#inPlace = inPlace;
    this.#filled += count;
    return offset + count;
  }

  get complete(): boolean {
    return this.#filled === this.#frame.length;
  }

  /**
   * The rest, `chunk[offset, end)`, of the chunk that completed the frame, when that chunk was
   * read in place: those bytes lie in the frame's spare room, so they are returned as a copy and
   * zeroed in the buffer. Undefined otherwise (the caller decodes the rest of the chunk as usual).
   */
  pastEnd(chunk: Uint8Array, offset: number, end: number): Uint8Array | undefined {
    if (!this.#inPlace || offset >= end) return undefined;
    const after = chunk.slice(offset);
    chunk.fill(0, offset);
    return after;
  }

  /** Hands the complete frame over; the assembly holds none afterwards. */
  finish(): Uint8Array {
    const frame = this.#frame;
    this.#frame = EMPTY;
    return frame;
  }

  /**
   * Where the next bytes may be read directly: the frame's unfilled tail when it is at least
   * {@linkcode DIRECT_READ_MIN}, and with `pastEnd` also (and then always) its spare room.
   */
  readView(pastEnd: boolean): Uint8Array | undefined {
    const frame = this.#frame;
    const rest = frame.length - this.#filled;
    const spare = pastEnd ? this.#spare : 0;
    // With room after the frame, even a short tail is read in place: the alternative, a slab read
    // that holds the tail and the next frame's start, needs the next frame's buffer before the
    // consumer of this one could give it back.
    if (rest < DIRECT_READ_MIN && spare === 0) return undefined;
    return spare > 0
      ? new Uint8Array(frame.buffer, frame.byteOffset + this.#filled, rest + spare)
      : frame.subarray(this.#filled);
  }
}

/**
 * Whether `bytes` (read past a frame's end) only begin a frame of a plain length (at most
 * `plainLimit`), so decoding them can wait: doing so calls no handler and fails no length check.
 */
export function onlyBeginsFrame(bytes: Uint8Array, plainLimit: number): boolean {
  if (bytes.length < LENGTH_FIELD) return false;
  const length = readInt64(new DataView(bytes.buffer, bytes.byteOffset, LENGTH_FIELD), 0);
  return typeof length === "number" && length >= MIN_FRAME_LENGTH && length <= plainLimit &&
    length > bytes.length;
}
