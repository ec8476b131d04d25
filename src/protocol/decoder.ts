/**
 * The incremental frame decoder: bytes in (in chunks of any size, split anywhere), messages out.
 *
 * A state machine in the style of ws's `Receiver`, its states described at {@linkcode DecoderState}
 * (frame-handler.ts). The hottest frames are decoded by hand (hot-frames.ts), the others by the
 * table-driven reader (frame-reader.ts); a frame over its limit is skipped (frame-skip.ts).
 *
 * Zero copy: bodies are `subarray` views of the pushed chunk holding them (the socket contract
 * gives chunk ownership to the receiver), or of the frame's own buffer; the handler may keep them.
 *
 * Handler callbacks run synchronously inside `push`. If one throws, the exception propagates out
 * of `push` unchanged and the decoder becomes `"failed"`: the bytes after that point have not been
 * (and will not be) decoded, and the connection should be closed. `push` must not be called from
 * inside a handler callback.
 *
 * @module
 */

import { describeError, ProtocolError, TransportError } from "../errors.ts";
import { readInt64 } from "./int64.ts";
import type { Int64, Message } from "./messages.ts";
import { FrameReader } from "./frame-reader.ts";
import { FrameSkip } from "./frame-skip.ts";
import { readHotFrame } from "./hot-frames.ts";
import { isSplitHead, SplitFrame } from "./split-frame.ts";
import { SplitLength } from "./split-length.ts";
import { rawBodyLength } from "./message-fields.ts";
import type {
  DecoderState,
  FrameAllocator,
  FrameDecoderOptions,
  FrameHandler,
  FrameMemory,
} from "./frame-handler.ts";
import { FrameCharge } from "./frame-charge.ts";
import {
  type FrameLimits,
  frameLimitsFor,
  LENGTH_FIELD,
  MIN_FRAME_LENGTH,
} from "./frame-limits.ts";

export type { DecoderState, FrameAllocator, FrameDecoderOptions, FrameHandler, FrameMemory };

const allocateZeroed: FrameAllocator = { allocate: (size) => new Uint8Array(size) };
/** The table-driven reader of every decoder (`read` calls nothing back: one serves them all). */
const reader = new FrameReader();

/**
 * Decodes a Spark `network-common` byte stream. See the module documentation.
 *
 * @example
 * ```ts
 * import { encodeMessage, FrameDecoder, MessageType } from "ferry-transport/protocol";
 *
 * const decoder = new FrameDecoder({
 *   message: (message) => console.log("decoded", message.type),
 *   body: (chunk) => console.log("stream bytes", chunk.byteLength),
 *   bodyEnd: () => console.log("stream end"),
 * });
 * const parts = encodeMessage({ type: MessageType.OneWayMessage, body: new Uint8Array([1, 2]) });
 * const frame = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
 * parts.reduce((offset, part) => (frame.set(part, offset), offset + part.byteLength), 0);
 * decoder.push(frame.subarray(0, 5)); // bytes may come in any pieces
 * decoder.push(frame.subarray(5));
 * ```
 */
export class FrameDecoder {
  readonly #handler: FrameHandler;
  /** What frames spanning chunks are charged to; the charge is made by the first of them. */
  readonly #memory: FrameMemory | undefined;
  #charge: FrameCharge | undefined;
  readonly #limits: FrameLimits;
  readonly #allocator: FrameAllocator;
  #state: DecoderState = "frame-length";
  /** Why the decoder failed (the first error). */
  #failure: unknown = undefined;
  #pushing = false;
  /** The length field when it arrives split across chunks; made on first use, like `#split`. */
  #splitLength: SplitLength | undefined;
  /** The frame (after its length field) being assembled across chunks. */
  #frame: Uint8Array = EMPTY;
  #frameFilled = 0;
  /** Bytes of `#frame`'s buffer after it that reads may fill (`FrameAllocator.spareAfter`). */
  #frameSpare = 0;
  /** `"frame-body"`: the frame's fixed fields (created on first use); the frame's size. */
  #split: SplitFrame | undefined;
  #frameSize = 0;
  /** Raw bytes still to pass through after a StreamResponse / UploadStream. */
  #streamRemaining = 0;
  /** `"frame-head"`, `"skip"`, `"skip-tail"`: a frame above the plain limit; created on first use. */
  #skip: FrameSkip | undefined;
  /**
   * Bytes read past a frame's end that only begin the next frame, not yet decoded: they are
   * decoded (its buffer allocated) by the next `readBuffer` or `push`, so a consumer that gives
   * the finished frame's buffer back in between gets it reused for the next frame.
   */
  #parked: Uint8Array | undefined;

  constructor(handler: FrameHandler, options: FrameDecoderOptions = {}) {
    const limits = frameLimitsFor(options, options.memory?.limit, handler.oversized !== undefined);
    this.#limits = limits;
    this.#handler = handler;
    this.#memory = options.memory;
    this.#allocator = options.allocator ??
      (options.allocate === undefined ? allocateZeroed : { allocate: options.allocate });
  }

  get maxFrameLength(): number {
    return this.#limits.maxFrameLength;
  }

  /** Replies (ChunkFetchSuccess, RpcResponse) are accepted up to this frame length. */
  get maxReplyFrameLength(): number {
    return this.#limits.maxReplyFrameLength;
  }

  /**
   * Whether the decoder is inside a frame or an announced body, i.e. owes the peer's next bytes
   * to something already announced (the no-progress deadline watches this).
   */
  get midFrame(): boolean {
    const state = this.#state;
    return state === "frame-length"
      ? (this.#splitLength?.filled ?? 0) > 0 || this.#parked !== undefined
      : state !== "failed";
  }

  /**
   * The host charged the frame this decoder is `"awaiting-room"` for (its size, as `reserve` was
   * asked): the frame's buffer is allocated and the bytes held meanwhile are decoded, calling the
   * handler as `push` does. Ignored in any other state. Same errors as `push`.
   */
  roomGranted(): void {
    if (this.#state !== "awaiting-room" || this.#pushing) return;
    this.#pushing = true;
    try {
      const { start, held } = this.#charge!.granted(this.#frameSize);
      this.#allocateFrame(this.#frameSize, start);
      for (const chunk of held) this.#consume(chunk);
    } catch (error) {
      this.#fail(error);
      throw error;
    } finally {
      this.#pushing = false;
    }
  }

  /**
   * The connection closed: what the current frame holds is dropped and its charge released. The
   * decoder is `"failed"` afterwards. Idempotent.
   */
  dispose(): void {
    if (this.#state === "failed") return;
    this.#fail(new ProtocolError("the decoder was disposed (its connection closed)"));
  }

  #fail(error: unknown): void {
    this.#state = "failed";
    this.#failure = error;
    this.#frame = EMPTY;
    this.#parked = undefined;
    this.#charge?.drop();
  }

  /** Where the decoder is; `"failed"` once it has stopped. */
  get state(): DecoderState {
    return this.#state;
  }

  /**
   * Decodes `chunk` (ownership passes to the decoder), calling the handler for everything it
   * completes, in order.
   *
   * @throws ProtocolError when the bytes break the protocol, or when the decoder already failed.
   * Whatever a handler callback throws propagates unchanged. Either way the decoder is `"failed"`.
   */
  push(chunk: Uint8Array): void {
    if (this.#state === "failed") {
      throw new ProtocolError(
        `Cannot decode ${chunk.length} more bytes: the decoder stopped after an earlier error ` +
          `(${describeError(this.#failure)})`,
        { cause: this.#failure },
      );
    }
    if (this.#pushing) {
      throw new TransportError(
        "FrameDecoder.push was called from inside a handler callback; push must not be re-entered",
      );
    }
    this.#pushing = true;
    try {
      if (this.#parked !== undefined) this.#unpark();
      this.#consume(chunk);
    } catch (error) {
      this.#fail(error);
      throw error;
    } finally {
      this.#pushing = false;
    }
  }

  /**
   * Where the next received bytes may be read directly (see `SocketSink.readBuffer`): the unfilled
   * tail of a large frame (allocated now in `"frame-body"`), so its body needs no copy. With
   * `pastEnd`, the view also covers the spare room the allocator left after the frame
   * (`FrameAllocator.spareAfter`), so the read that finishes the frame may bring the next frame's
   * head as well; a chunk that ends there is pushed as any other (a prefix of this view).
   */
  readBuffer(pastEnd = false): Uint8Array | undefined {
    if (this.#pushing) return undefined;
    if (this.#parked !== undefined) {
      this.#pushing = true;
      try {
        this.#unpark();
      } catch (error) {
        this.#fail(error);
        throw error;
      } finally {
        this.#pushing = false;
      }
    }
    if (this.#state === "skip") return this.#skip!.readBuffer(DIRECT_READ_MIN);
    if (this.#state === "frame-body") this.#startFrame(this.#frameSize, this.#split!.bytes());
    if (this.#state !== "frame") return undefined;
    const frame = this.#frame;
    const rest = frame.length - this.#frameFilled;
    const spare = pastEnd ? this.#frameSpare : 0;
    // With room after the frame, even a short tail is read in place: the alternative, a slab read
    // that holds the tail and the next frame's start, needs the next frame's buffer before the
    // consumer of this one could give it back.
    if (rest < DIRECT_READ_MIN && spare === 0) return undefined;
    return spare > 0
      ? new Uint8Array(frame.buffer, frame.byteOffset + this.#frameFilled, rest + spare)
      : frame.subarray(this.#frameFilled);
  }

  #consume(chunk: Uint8Array): void {
    const end = chunk.length;
    let offset = 0;
    let view: DataView | undefined;
    while (offset < end) {
      switch (this.#state) {
        case "frame-length": {
          let length: Int64;
          if ((this.#splitLength?.filled ?? 0) === 0 && end - offset >= LENGTH_FIELD) {
            view ??= new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            length = readInt64(view, offset);
            offset += LENGTH_FIELD;
          } else {
            const field = this.#splitLength ??= new SplitLength();
            offset = field.take(chunk, offset, end);
            if (!field.complete) return;
            length = field.value();
          }
          // The hot path: a plain length needs no more than this comparison.
          const frameLength = typeof length === "number" && length >= MIN_FRAME_LENGTH &&
              length <= this.#limits.plainLimit
            ? length
            : this.#limits.check(length);
          const frameSize = frameLength - LENGTH_FIELD;
          if (frameLength > this.#limits.plainLimit) {
            this.#frameSize = frameSize;
            (this.#skip ??= new FrameSkip(this.#limits, this.#handler.oversized !== undefined))
              .begin(frameSize);
            this.#state = "frame-head";
          } else if (end - offset >= frameSize) {
            view ??= new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            const start = offset;
            offset += frameSize;
            this.#frameAt(chunk, view, start, offset);
          } else if (isSplitHead(chunk, offset, end, frameSize, SPLIT_BODY_MIN)) {
            this.#holdHead(offset === 0 ? chunk : chunk.subarray(offset), frameSize);
            return;
          } else {
            this.#startFrame(frameSize, offset === 0 ? chunk : chunk.subarray(offset));
            return;
          }
          break;
        }
        case "frame-head":
        case "skip":
        case "skip-tail":
          offset = this.#skip!.consume(chunk, offset, end);
          this.#afterSkip();
          break;
        case "awaiting-room":
          this.#charge!.hold(offset === 0 ? chunk : chunk.subarray(offset));
          return;
        case "frame": {
          const frame = this.#frame;
          const count = Math.min(frame.length - this.#frameFilled, end - offset);
          const inPlace = offset === 0 && chunk.buffer === frame.buffer &&
            chunk.byteOffset === frame.byteOffset + this.#frameFilled;
          if (!inPlace) {
            frame.set(
              offset === 0 && count === end ? chunk : chunk.subarray(offset, offset + count),
              this.#frameFilled,
            );
          }
          this.#frameFilled += count;
          offset += count;
          if (this.#frameFilled === frame.length) {
            this.#frame = EMPTY;
            this.#state = "frame-length";
            // Read past the frame's end into its spare room (readBuffer(true)): those bytes are
            // copied out and zeroed before the buffer goes to whoever receives the message.
            const after = inPlace && offset < end ? takePastEnd(chunk, offset) : undefined;
            // Complete: the buffer now belongs to whoever receives the message.
            this.#charge?.release();
            const frameView = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
            this.#frameAt(frame, frameView, 0, frame.length);
            if (after !== undefined) {
              if (this.#beginsFrame(after)) this.#parked = after;
              else this.#consume(after);
              return;
            }
          }
          break;
        }
        case "frame-body": {
          const split = this.#split!;
          const body = split.body(chunk, offset, end, this.#frameSize);
          if (body === undefined) {
            this.#startFrame(this.#frameSize, split.bytes()); // spans chunks
            break;
          }
          offset += body.length;
          this.#state = "frame-length";
          // A body length that disagrees: joined, the general reader names what is wrong.
          const joined = split.deliver(body, this.#handler);
          if (joined !== undefined) {
            this.#deliver(reader.read(joined, new DataView(joined.buffer), 0, joined.length));
          }
          break;
        }
        case "stream-body": {
          const count = Math.min(this.#streamRemaining, end - offset);
          const piece = offset === 0 && count === end
            ? chunk
            : chunk.subarray(offset, offset + count);
          offset += count;
          this.#streamRemaining -= count;
          const done = this.#streamRemaining === 0;
          if (done) this.#state = "frame-length";
          this.#handler.body(piece);
          if (done) this.#handler.bodyEnd();
          break;
        }
        case "failed":
          // Unreachable: push() refuses a failed decoder and failures end #consume by throwing.
          return;
      }
    }
  }

  /** Decodes the parked bytes (they begin a frame: no handler callback). */
  #unpark(): void {
    const parked = this.#parked!;
    this.#parked = undefined;
    this.#consume(parked);
  }

  /**
   * Whether `bytes` (read past a frame's end) only begin a frame of a plain length, so decoding
   * them can wait: it calls no handler and fails no length check.
   */
  #beginsFrame(bytes: Uint8Array): boolean {
    if (bytes.length < LENGTH_FIELD) return false;
    const length = readInt64(new DataView(bytes.buffer, bytes.byteOffset, LENGTH_FIELD), 0);
    return typeof length === "number" && length >= MIN_FRAME_LENGTH &&
      length <= this.#limits.plainLimit && length > bytes.length;
  }

  /** Decodes and delivers the complete frame in `bytes[start, end)` (type byte first). */
  #frameAt(bytes: Uint8Array, view: DataView, start: number, end: number): void {
    // The hottest frames, well-formed, are decoded by hand; anything else (a malformed one too)
    // goes to the general reader, which names what is wrong.
    if (readHotFrame(bytes, view, start, end, this.#handler)) return;
    this.#deliver(reader.read(bytes, view, start, end));
  }

  /** Enters `"frame-body"`: `head` is the fixed fields of a frame of `frameSize` bytes. */
  #holdHead(head: Uint8Array, frameSize: number): void {
    (this.#split ??= new SplitFrame()).hold(head);
    this.#frameSize = frameSize;
    this.#state = "frame-body";
  }

  /** Follows the oversized frame's phase (frame-skip.ts) once `#skip` consumed its bytes. */
  #afterSkip(): void {
    const skip = this.#skip!;
    switch (skip.phase) {
      case "receive":
        this.#startFrame(this.#frameSize, EMPTY);
        return;
      case "frame-body":
        this.#holdHead(skip.head.subarray(0, skip.headLength), this.#frameSize);
        return;
      case "done":
        this.#state = "frame-length";
        this.#handler.oversized!(skip.take());
        return;
      default:
        this.#state = skip.phase;
    }
  }

  /**
   * Enters `"frame"`: a new `frameSize`-byte buffer starting with `start` (`"frame-body"`'s too),
   * charged to `memory` first; without room, enters `"awaiting-room"` instead.
   */
  #startFrame(frameSize: number, start: Uint8Array): void {
    const memory = this.#memory;
    const charge = memory === undefined ? undefined : this.#charge ??= new FrameCharge(memory);
    if (charge !== undefined && !charge.reserve(frameSize, start)) {
      this.#frameSize = frameSize;
      this.#state = "awaiting-room";
      return;
    }
    this.#allocateFrame(frameSize, start);
  }

  #allocateFrame(frameSize: number, start: Uint8Array): void {
    const frame = this.#allocator.allocate(frameSize);
    if (frame.length !== frameSize) {
      throw new TransportError(
        `FrameDecoder: the allocate option returned ${frame.length} bytes for a frame of ` +
          `${frameSize}`,
      );
    }
    frame.set(start);
    this.#frame = frame;
    this.#frameFilled = start.length;
    this.#frameSpare = this.#allocator.spareAfter?.(frame) ?? 0;
    this.#state = "frame";
  }

  #deliver(message: Message): void {
    // StreamResponse, UploadStream: their raw bytes follow the frame (-1: nothing follows).
    const count = rawBodyLength(message);
    if (count > 0) {
      this.#streamRemaining = count;
      this.#state = "stream-body";
    }
    this.#handler.message(message);
    if (count === 0) this.#handler.bodyEnd();
  }
}

/** A copy of `chunk` from `offset` on, which is then zeroed (a frame's spare room). */
function takePastEnd(chunk: Uint8Array, offset: number): Uint8Array {
  const after = chunk.slice(offset);
  chunk.fill(0, offset);
  return after;
}

const EMPTY = new Uint8Array(0);
/** Frames with at least this much left to receive are read straight into their buffer. */
const DIRECT_READ_MIN = 16 * 1024;
/** Bodies at least this large are awaited as a chunk of their own (`"frame-body"`). */
const SPLIT_BODY_MIN = DIRECT_READ_MIN;
