/**
 * Where the frames are in what a browser sends, so the gateway can admit its requests one at a
 * time. One WebSocket message may carry any number of frames (Ferry's own client joins the small
 * frames of a turn into one message, and an attacker can pack 500 000 ChunkFetchRequests into
 * 16 MiB). Pushed whole into the decoder, every one of them would be performed before the session
 * could check its in-flight caps; paced, the session pushes one frame, checks its caps, and leaves
 * the rest of the message undecoded (it is already in memory: waiting costs nothing more) until a
 * slot frees.
 *
 * The pacer reads only the 8-byte length of each frame and counts bytes; the decoder still does
 * all the decoding and validation. An UploadStream's raw body follows its frame outside the frame
 * length: the session announces it with `expectBody`. A frame length above `maxFrameLength` is
 * refused here, with the gateway's close code on the error (1009), before anything of it is
 * buffered.
 *
 * @module
 */

import { GatewayCloseCode, GatewayClosedError } from "./close-codes.ts";

const LENGTH_BYTES = 8;

export class FramePacer {
  readonly #maxFrameLength: number;
  readonly #length = new Uint8Array(LENGTH_BYTES);
  readonly #lengthView = new DataView(this.#length.buffer);
  /** Bytes of the current frame's length field seen so far. */
  #lengthSeen = 0;
  /** Bytes of the current frame after its length field (or of a raw body) still to come. */
  #rest = 0;

  constructor(maxFrameLength: number) {
    this.#maxFrameLength = maxFrameLength;
  }

  /** True between frames: nothing of the next frame has been passed on yet. */
  get atBoundary(): boolean {
    return this.#lengthSeen === 0 && this.#rest === 0;
  }

  /**
   * How many bytes of `chunk` from `offset` belong to the current frame (or body): pass exactly
   * that many to the decoder, then ask again. At most one frame is completed per step.
   * @throws GatewayClosedError (1009) when a frame announces more than `maxFrameLength` bytes.
   */
  step(chunk: Uint8Array, offset: number): number {
    const available = chunk.byteLength - offset;
    let taken = 0;
    if (this.#rest === 0) {
      taken = Math.min(LENGTH_BYTES - this.#lengthSeen, available);
      this.#length.set(chunk.subarray(offset, offset + taken), this.#lengthSeen);
      this.#lengthSeen += taken;
      if (this.#lengthSeen < LENGTH_BYTES) return taken;
      this.#lengthSeen = 0;
      const length = this.#lengthView.getBigInt64(0);
      if (length > BigInt(this.#maxFrameLength)) {
        throw new GatewayClosedError(
          GatewayCloseCode.TooBig,
          "frame-too-big",
          `A browser frame announced ${length} bytes, above the gateway's maxFrameLength ` +
            `(${this.#maxFrameLength})`,
        );
      }
      // An invalid (too small, negative) length is the decoder's to report: pass its 8 bytes on.
      this.#rest = length > BigInt(LENGTH_BYTES) ? Number(length) - LENGTH_BYTES : 0;
    }
    const body = Math.min(this.#rest, available - taken);
    this.#rest -= body;
    return taken + body;
  }

  /** The frame just completed is followed by `bytes` raw body bytes (UploadStream). */
  expectBody(bytes: number): void {
    this.#rest += bytes;
  }
}
