/**
 * The decoder's path for a frame above its plain limit (states `"frame-head"`, `"skip"` and
 * `"skip-tail"`): its head (type byte and id fields, oversized-frame.ts) is read first, and then
 * either the frame is received as usual (a reply within `maxReplyFrameLength`, or a frame within
 * its limits that only a request-body limit sent here), or the rest of it is read and discarded,
 * never buffered. For a skipped UploadStream its body count (the frame's last 8 bytes) is read
 * and its raw body skipped too. Once the last byte has passed, the {@linkcode OversizedFrame} is
 * ready for `FrameHandler.oversized` and the connection is still in sync.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { readInt64 } from "./int64.ts";
import { MessageType } from "./messages.ts";
import type { FrameLimits } from "./frame-limits.ts";
import { type OversizedFrame, oversizedHeadLength, readOversizedFrame } from "./oversized-frame.ts";

/** Bytes of the frame-length field, and of the body count ending a skipped UploadStream frame. */
const INT64_LENGTH = 8;
/** Skipped bytes are read into a reused buffer of this size. */
const SKIP_SCRATCH = 64 * 1024;
/** The longest head `oversizedHeadLength` asks for. */
const HEAD_BYTES = 1 + 8 + 4;

/**
 * Where the frame is: `"frame-head"`, `"skip"`, `"skip-tail"` as the decoder's states; then
 * `"receive"` (receive the whole frame, type byte included, as one spanning chunks), `"frame-body"`
 * (a reply: its head, exactly its fixed fields, is in {@linkcode FrameSkip.head}, its body comes
 * next) or `"done"` (skipped; {@linkcode FrameSkip.take} the report).
 */
export type SkipPhase = "frame-head" | "skip" | "skip-tail" | "receive" | "frame-body" | "done";

/** One decoder's oversized frames, one at a time; created on the decoder's first. */
export class FrameSkip {
  phase: SkipPhase = "done";
  /** The frame's head (type byte first), `headLength` bytes of it in. */
  readonly head = new Uint8Array(HEAD_BYTES);
  headLength = 0;
  readonly #headView = new DataView(this.head.buffer);
  /** Bytes of head needed (0 until the type byte is in). */
  #headNeeded = 0;
  /** The frame's size after its length field. */
  #frameSize = 0;
  readonly #limits: FrameLimits;
  /** Whether the handler can be told of a skipped frame (else an oversized frame fails). */
  readonly #canReport: boolean;
  /** Bytes still to discard in phase `"skip"`. */
  #remaining = 0;
  #frame: OversizedFrame | undefined;
  /** The skipped frame is an UploadStream whose tail and body are still to come. */
  #tailPending = false;
  readonly #tail = new Uint8Array(INT64_LENGTH);
  #tailFilled = 0;
  /** Memory into which skipped bytes may be read (see `readBuffer`), allocated on first use. */
  #scratch: Uint8Array | undefined;

  constructor(limits: FrameLimits, canReport: boolean) {
    this.#limits = limits;
    this.#canReport = canReport;
  }

  /** A frame of `frameSize` bytes (after its length field) above the plain limit begins. */
  begin(frameSize: number): void {
    this.#frameSize = frameSize;
    this.headLength = 0;
    this.#headNeeded = 0;
    this.phase = "frame-head";
  }

  /**
   * Consumes what the current phase needs of `chunk[offset, end)` (`offset < end`); returns the
   * new offset.
   * @throws ProtocolError for a frame over its limit that cannot be skipped or reported.
   */
  consume(chunk: Uint8Array, offset: number, end: number): number {
    switch (this.phase) {
      case "frame-head":
        return this.#readHead(chunk, offset, end);
      case "skip": {
        const count = Math.min(this.#remaining, end - offset);
        this.#remaining -= count;
        if (this.#remaining === 0) this.#endSkip();
        return offset + count;
      }
      case "skip-tail":
        while (this.#tailFilled < INT64_LENGTH && offset < end) {
          this.#tail[this.#tailFilled++] = chunk[offset++]!;
        }
        if (this.#tailFilled === INT64_LENGTH) this.#skipUploadBody();
        return offset;
      default:
        return offset;
    }
  }

  /** The report of the frame skipped (phase `"done"`). */
  take(): OversizedFrame {
    const frame = this.#frame!;
    this.#frame = undefined;
    return frame;
  }

  /**
   * Where skipped bytes may be read directly when at least `minimum` are still to come: one
   * reused buffer, never longer than what is left of the frame (so no byte of the next frame lands
   * in memory that the next read overwrites).
   */
  readBuffer(minimum: number): Uint8Array | undefined {
    if (this.phase !== "skip" || this.#remaining < minimum) return undefined;
    const scratch = this.#scratch ??= new Uint8Array(SKIP_SCRATCH);
    return this.#remaining >= scratch.length ? scratch : scratch.subarray(0, this.#remaining);
  }

  #readHead(chunk: Uint8Array, offset: number, end: number): number {
    const frameLength = this.#frameSize + INT64_LENGTH;
    if (this.#headNeeded === 0) {
      const type = chunk[offset]!;
      if (this.#receivedWhole(type, frameLength)) return offset;
      const needed = oversizedHeadLength(type);
      const tail = type === MessageType.UploadStream ? INT64_LENGTH : 0;
      if (needed === 0 || needed + tail > this.#frameSize) {
        throw this.#limits.tooLarge(frameLength, this.#limits.maxFrameLength, type);
      }
      this.#headNeeded = needed;
    }
    while (this.headLength < this.#headNeeded && offset < end) {
      this.head[this.headLength++] = chunk[offset++]!;
    }
    if (this.headLength === this.#headNeeded) this.#decide(frameLength);
    return offset;
  }

  /**
   * A frame above the plain limit only because a request-body limit lowered it (not a reply, and
   * within its limits) is received whole, its type byte included; else its head must decide.
   */
  #receivedWhole(type: number, frameLength: number): boolean {
    if (type === MessageType.ChunkFetchSuccess || type === MessageType.RpcResponse) return false;
    if (this.#limits.exceeded(type, frameLength) !== undefined) return false;
    this.phase = "receive";
    return true;
  }

  /**
   * The head is in: a reply within `maxReplyFrameLength` (and the memory limit) is received as
   * usual; anything else is skipped, or fails the decoder when the handler cannot be told.
   */
  #decide(frameLength: number): void {
    const type = this.head[0]!;
    const over = this.#limits.exceeded(type, frameLength);
    if (over === undefined) {
      // Only replies get here (anything else within maxFrameLength is a plain frame), and their
      // head is exactly their fixed fields.
      this.phase = "frame-body";
      return;
    }
    if (!this.#canReport) throw this.#limits.tooLarge(frameLength, over.limit, type);
    this.#frame = readOversizedFrame(this.head, this.#headView, frameLength, over);
    // An UploadStream's body count is the frame's last 8 bytes: its meta is skipped up to them.
    this.#tailPending = type === MessageType.UploadStream;
    this.#skipFor(this.#frameSize - this.headLength - (this.#tailPending ? INT64_LENGTH : 0));
  }

  #skipFor(count: number): void {
    this.#remaining = count;
    this.phase = "skip";
    if (count === 0) this.#endSkip();
  }

  #endSkip(): void {
    if (this.#tailPending) {
      this.#tailPending = false;
      this.phase = "skip-tail";
      return;
    }
    this.phase = "done";
  }

  /** A skipped UploadStream's body count is in: its raw body is skipped too, then reported. */
  #skipUploadBody(): void {
    const count = readInt64(new DataView(this.#tail.buffer), 0);
    this.#tailFilled = 0;
    if (typeof count !== "number" || count < 0) {
      throw new ProtocolError(
        `Cannot decode frame: a skipped UploadStream announces a body of ${count} bytes`,
      );
    }
    this.#frame = { ...this.#frame!, bodyByteCount: count } as OversizedFrame;
    this.#skipFor(count);
  }
}
