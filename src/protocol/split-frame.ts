/**
 * A frame whose large body arrives as a chunk of its own, the decoder's `"frame-body"` state: how
 * a WebSocket peer sends header and body as two messages, and how a reply above the plain limit
 * continues once its head is read (frame-skip.ts). The head (the frame's fixed fields, type byte
 * first) is held here; when the next chunk holds the whole body, the body is a view of it (no
 * copy) and the frame is delivered by hand (hot-frames.ts).
 *
 * @module
 */

import type { FrameHandler } from "./frame-handler.ts";
import { MAX_SPLIT_HEAD, readSplitFrame, splitHeadLength } from "./hot-frames.ts";
import { DIRECT_READ_MIN } from "./frame-assembly.ts";

/**
 * Whether `chunk[offset, end)` is exactly the fixed fields of a frame of `frameSize` bytes (after
 * its length field) whose body, at least `minBody` bytes, is worth awaiting as a chunk of its own
 * (`"frame-body"`; by default, a body large enough to be read straight into its frame).
 */
export function isSplitHead(
  chunk: Uint8Array,
  offset: number,
  end: number,
  frameSize: number,
  minBody: number = DIRECT_READ_MIN,
): boolean {
  const available = end - offset;
  return available > 0 && available === splitHeadLength(chunk[offset]!) &&
    frameSize - available >= minBody;
}

/** The head of the frame whose body is awaited; one per decoder, created on first use. */
export class SplitFrame {
  readonly #head = new Uint8Array(MAX_SPLIT_HEAD);
  readonly #view = new DataView(this.#head.buffer);
  /** Bytes of the head held. */
  length = 0;

  /** Holds `head` (a copy: its chunk belongs to no one once consumed). */
  hold(head: Uint8Array): void {
    this.#head.set(head);
    this.length = head.length;
  }

  /**
   * The body of the frame of `frameSize` bytes whose head is held, when `chunk[offset, end)` has
   * all of it: a view of `chunk` (no copy); undefined when the body spans chunks.
   */
  body(chunk: Uint8Array, offset: number, end: number, frameSize: number): Uint8Array | undefined {
    const bodyLength = frameSize - this.length;
    if (end - offset < bodyLength) return undefined;
    return offset === 0 && bodyLength === end ? chunk : chunk.subarray(offset, offset + bodyLength);
  }

  /** The head held. */
  bytes(): Uint8Array {
    return this.#head.subarray(0, this.length);
  }

  /**
   * Delivers the frame of the head held and `body`. When its body length field disagrees with
   * `body`, delivers nothing and returns the head and `body` joined into one frame (type byte
   * first) for the general reader, which names what is wrong.
   */
  deliver(body: Uint8Array, handler: FrameHandler): Uint8Array | undefined {
    if (readSplitFrame(this.#head, this.#view, body, handler)) return undefined;
    const frame = new Uint8Array(this.length + body.length);
    frame.set(this.bytes());
    frame.set(body, this.length);
    return frame;
  }
}
