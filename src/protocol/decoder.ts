/**
 * The incremental frame decoder: bytes in (in chunks of any size, split anywhere), messages out.
 *
 * A state machine in the style of ws's `Receiver`, its states described at {@linkcode DecoderState}
 * (frame-handler.ts). The hottest frames are decoded by hand (hot-frames.ts), the others by the
 * table-driven reader (frame-reader.ts); a frame spanning chunks is assembled in a buffer of its own
 * (frame-assembly.ts); a frame over its limit is skipped (frame-skip.ts).
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
import { DIRECT_READ_MIN, EMPTY, FrameAssembly, onlyBeginsFrame } from "./frame-assembly.ts";
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
  /** `"frame"`: the frame (after its length field) being assembled; made on first use. */
  #assembly: FrameAssembly | undefined;
  /** `"frame-body"`: the frame's fixed fields (created on first use); the frame's size. */
  #split: SplitFrame | undefined;
  #frameSize = 0;
  /** Raw bytes still to pass through after a StreamResponse / UploadStream. */
  #streamRemaining = 0;
  /** `"frame-head"`, `"skip"`, `"skip-tail"`: a frame above the plain limit; created on first use. */
  #skip: FrameSkip | undefined;
  /**
   * Bytes read past a frame's end that only begin the next frame: decoded by the next `readBuffer`
   * or `push`, so a buffer given back in between is reused for that frame.
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
    this.#assembly?.drop();
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
    this.#decode(chunk);
  }

  /**
   * Where the next received bytes may be read directly (see `SocketSink.readBuffer`): the unfilled
   * tail of a large frame (allocated now in `"frame-body"`), so its body needs no copy; with
   * `pastEnd`, also the room after it (`FrameAssembly.readView`). What is read there is pushed as
   * any other chunk (a prefix of this view).
   */
  readBuffer(pastEnd = false): Uint8Array | undefined {
    if (this.#pushing) return undefined;
    if (this.#parked !== undefined) this.#decode(undefined);
    if (this.#state === "skip") return this.#skip!.readBuffer(DIRECT_READ_MIN);
    if (this.#state === "frame-body") this.#startFrame(this.#frameSize, this.#split!.bytes());
    return this.#state === "frame" ? this.#assembly!.readView(pastEnd) : undefined;
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
          } else if (isSplitHead(chunk, offset, end, frameSize)) {
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
          const assembly = this.#assembly!;
          offset = assembly.take(chunk, offset, end);
          if (assembly.complete) {
            this.#state = "frame-length";
            // Read past the frame's end into its spare room (readBuffer(true)): those bytes are
            // copied out and zeroed before the buffer goes to whoever receives the message.
            const after = assembly.pastEnd(chunk, offset, end);
            const frame = assembly.finish();
            // Complete: the buffer now belongs to whoever receives the message.
            this.#charge?.release();
            const frameView = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
            this.#frameAt(frame, frameView, 0, frame.length);
            if (after !== undefined) {
              if (onlyBeginsFrame(after, this.#limits.plainLimit)) this.#parked = after;
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

  /**
   * Decodes the parked bytes (they begin a frame: no handler callback), then `chunk`. Whatever
   * fails fails the decoder and is rethrown.
   */
  #decode(chunk: Uint8Array | undefined): void {
    this.#pushing = true;
    try {
      const parked = this.#parked;
      if (parked !== undefined) {
        this.#parked = undefined;
        this.#consume(parked);
      }
      if (chunk !== undefined) this.#consume(chunk);
    } catch (error) {
      this.#fail(error);
      throw error;
    } finally {
      this.#pushing = false;
    }
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
    (this.#assembly ??= new FrameAssembly()).begin(this.#allocator, frameSize, start);
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
