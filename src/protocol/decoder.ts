/**
 * The incremental frame decoder: bytes in (in chunks of any size, split anywhere), messages out.
 *
 * A state machine in the style of ws's `Receiver`, with named states:
 *
 * - `"frame-length"` — reading the 8-byte frame length (which may itself arrive split across
 *   chunks). The length is checked the moment its 8 bytes are in, before anything is buffered:
 *   below 9 or above the ceiling (frame-limits.ts) fails at once; above the plain limit, the
 *   frame's head decides (`"frame-head"`).
 * - `"frame"` — the frame spans chunks: its bytes are being copied into one buffer of exactly the
 *   frame's size (allocated once, no repeated concatenation).
 * - `"frame-body"` — a chunk ended right after the fixed fields of a frame with a large body (how
 *   a WebSocket peer sends header and body as two messages): when the next chunk holds the whole
 *   body, the body is a view of it (no copy); otherwise the frame is assembled as in `"frame"`.
 * - `"stream-body"` — after a StreamResponse or UploadStream, its `byteCount` / `bodyByteCount`
 *   raw bytes are handed to {@linkcode FrameHandler.body} as they arrive (views, never buffered).
 * - `"frame-head"` — a frame above the plain limit (`maxFrameLength`, the inbound memory budget,
 *   or a request-body limit): its type byte and id fields are read first (oversized-frame.ts). A
 *   ChunkFetchSuccess or RpcResponse within `maxReplyFrameLength`, or a frame of another type
 *   within its limits, is then received as usual; anything else over its limit is skipped when
 *   the handler has `oversized`, else fails as before.
 * - `"skip"` — the body of a frame over its limit is read and discarded (never buffered); once it
 *   has passed, {@linkcode FrameHandler.oversized} reports the frame and decoding goes on.
 * - `"skip-tail"` — a skipped UploadStream's meta has passed: its body count (the frame's last 8
 *   bytes) is read, then its raw body is skipped (`"skip"`) before the report.
 * - `"awaiting-room"` — a frame that spans chunks needs a buffer, and the `memory` option had no
 *   room for it: bytes received meanwhile are held (the host stops reading) until the host calls
 *   {@linkcode FrameDecoder.roomGranted}.
 * - `"failed"` — a protocol error (or a throwing handler) stopped the decoder; every later `push`
 *   throws a {@linkcode ProtocolError} saying so.
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
import { type Int64, type Message, MessageType } from "./messages.ts";
import { FrameReader } from "./frame-reader.ts";
import type {
  DecoderState,
  FrameDecoderOptions,
  FrameHandler,
  FrameMemory,
} from "./frame-handler.ts";
import { FrameCharge } from "./frame-charge.ts";
import { FrameLimits, LENGTH_FIELD, MIN_FRAME_LENGTH } from "./frame-limits.ts";
import { type OversizedFrame, oversizedHeadLength, readOversizedFrame } from "./oversized-frame.ts";

export type { DecoderState, FrameDecoderOptions, FrameHandler, FrameMemory };

const allocateZeroed = (size: number): Uint8Array => new Uint8Array(size);

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
  readonly maxFrameLength: number;
  /** Replies (ChunkFetchSuccess, RpcResponse) are accepted up to this frame length. */
  readonly maxReplyFrameLength: number;
  readonly #handler: FrameHandler;
  readonly #charge: FrameCharge;
  readonly #limits: FrameLimits;
  /** Frames up to this length need no look at their head (the hot path). */
  readonly #plainLimit: number;
  readonly #reader = new FrameReader();
  readonly #allocate: (size: number) => Uint8Array;
  #state: DecoderState = "frame-length";
  /** Why the decoder failed (the first error). */
  #failure: unknown = undefined;
  #pushing = false;

  /**
   * The length field when it arrives split across chunks. Allocated on first use, like `#head`:
   * most connections never need them, and a server holds one decoder per connection.
   */
  #lengthBytes: Uint8Array = EMPTY;
  #lengthView: DataView = EMPTY_VIEW;
  #lengthFilled = 0;

  /** The frame (after its length field) being assembled across chunks. */
  #frame: Uint8Array = EMPTY;
  #frameFilled = 0;

  /** `"frame-body"`: the frame's fixed fields (type byte first), and the frame's size. */
  #head: Uint8Array = EMPTY;
  #headView: DataView = EMPTY_VIEW;
  #headLength = 0;
  #frameSize = 0;

  /** Raw bytes still to pass through after a StreamResponse / UploadStream. */
  #streamRemaining = 0;

  /** `"frame-head"`: bytes of the head needed (0 until the type byte is in). */
  #headNeeded = 0;
  /** `"skip"`: bytes of the oversized frame still to discard, and its report. */
  #skipRemaining = 0;
  #skipped: OversizedFrame | undefined;
  /** `"skip-tail"`: a skipped UploadStream's body count (the frame's last 8 bytes) being read. */
  readonly #tail = new Uint8Array(LENGTH_FIELD);
  #tailFilled = 0;
  /** The skipped frame is an UploadStream whose tail and body are still to come. */
  #tailPending = false;
  /** Memory into which skipped bytes may be read (see `readBuffer`), allocated on first use. */
  #scratch: Uint8Array | undefined;

  constructor(handler: FrameHandler, options: FrameDecoderOptions = {}) {
    const limits = new FrameLimits(options, options.memory?.limit, handler.oversized !== undefined);
    this.#limits = limits;
    this.maxFrameLength = limits.maxFrameLength;
    this.maxReplyFrameLength = limits.maxReplyFrameLength;
    this.#plainLimit = limits.plainLimit;
    this.#handler = handler;
    this.#charge = new FrameCharge(options.memory);
    this.#allocate = options.allocate ?? allocateZeroed;
  }

  /**
   * Whether the decoder is inside a frame or an announced body, i.e. owes the peer's next bytes
   * to something already announced (the no-progress deadline watches this).
   */
  get midFrame(): boolean {
    return this.#state === "frame-length" ? this.#lengthFilled > 0 : this.#state !== "failed";
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
      const { start, held } = this.#charge.granted(this.#frameSize);
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
    this.#charge.drop();
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
   * tail of a large frame (allocated now in `"frame-body"`), so its body needs no copy.
   */
  readBuffer(): Uint8Array | undefined {
    if (this.#pushing) return undefined;
    if (this.#state === "skip") {
      // Skipped bytes are read into one reused buffer, never past the frame's end (so no byte of
      // the next frame lands in memory that the next read overwrites).
      if (this.#skipRemaining < DIRECT_READ_MIN) return undefined;
      const scratch = this.#scratch ??= new Uint8Array(SKIP_SCRATCH);
      return this.#skipRemaining >= scratch.length
        ? scratch
        : scratch.subarray(0, this.#skipRemaining);
    }
    if (this.#state === "frame-body") {
      this.#startFrame(this.#frameSize, this.#head.subarray(0, this.#headLength));
    }
    if (this.#state !== "frame") return undefined;
    const frame = this.#frame;
    return frame.length - this.#frameFilled >= DIRECT_READ_MIN
      ? frame.subarray(this.#frameFilled)
      : undefined;
  }

  #consume(chunk: Uint8Array): void {
    const end = chunk.length;
    let offset = 0;
    let view: DataView | undefined;
    while (offset < end) {
      switch (this.#state) {
        case "frame-length": {
          let length: Int64;
          if (this.#lengthFilled === 0 && end - offset >= LENGTH_FIELD) {
            view ??= new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            length = readInt64(view, offset);
            offset += LENGTH_FIELD;
          } else {
            let bytes = this.#lengthBytes;
            if (bytes === EMPTY) {
              bytes = this.#lengthBytes = new Uint8Array(LENGTH_FIELD);
              this.#lengthView = new DataView(bytes.buffer);
            }
            let filled = this.#lengthFilled;
            while (filled < LENGTH_FIELD && offset < end) bytes[filled++] = chunk[offset++]!;
            if (filled < LENGTH_FIELD) {
              this.#lengthFilled = filled;
              return;
            }
            this.#lengthFilled = 0;
            length = readInt64(this.#lengthView, 0);
          }
          // The hot path: a plain length needs no more than this comparison.
          const frameLength =
            typeof length === "number" && length >= MIN_FRAME_LENGTH && length <= this.#plainLimit
              ? length
              : this.#limits.check(length);
          const frameSize = frameLength - LENGTH_FIELD;
          if (frameLength > this.#plainLimit) {
            this.#frameSize = frameSize;
            this.#headLength = 0;
            this.#headNeeded = 0;
            this.#state = "frame-head";
          } else if (end - offset >= frameSize) {
            view ??= new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            const start = offset;
            offset += frameSize;
            this.#frameAt(chunk, view, start, offset);
          } else if (this.#awaitBody(chunk, offset, end, frameSize)) {
            return;
          } else {
            this.#startFrame(frameSize, offset === 0 ? chunk : chunk.subarray(offset));
            return;
          }
          break;
        }
        case "frame-head": {
          const head = this.#headBytes();
          if (this.#headNeeded === 0) {
            const type = chunk[offset]!;
            if (this.#receivedWhole(type)) break;
            const needed = oversizedHeadLength(type);
            const tail = type === MessageType.UploadStream ? LENGTH_FIELD : 0;
            if (needed === 0 || needed + tail > this.#frameSize) {
              throw this.#limits.tooLarge(
                this.#frameSize + LENGTH_FIELD,
                this.maxFrameLength,
                type,
              );
            }
            this.#headNeeded = needed;
          }
          while (this.#headLength < this.#headNeeded && offset < end) {
            head[this.#headLength++] = chunk[offset++]!;
          }
          if (this.#headLength < this.#headNeeded) return;
          this.#decideOversized();
          break;
        }
        case "skip": {
          const count = Math.min(this.#skipRemaining, end - offset);
          offset += count;
          this.#skipRemaining -= count;
          if (this.#skipRemaining === 0) this.#endSkip();
          break;
        }
        case "skip-tail": {
          while (this.#tailFilled < LENGTH_FIELD && offset < end) {
            this.#tail[this.#tailFilled++] = chunk[offset++]!;
          }
          if (this.#tailFilled === LENGTH_FIELD) this.#skipUploadBody();
          break;
        }
        case "awaiting-room":
          this.#charge.hold(offset === 0 ? chunk : chunk.subarray(offset));
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
            // Complete: the buffer now belongs to whoever receives the message.
            this.#charge.release();
            const frameView = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
            this.#frameAt(frame, frameView, 0, frame.length);
          }
          break;
        }
        case "frame-body": {
          const bodyLength = this.#frameSize - this.#headLength;
          if (end - offset < bodyLength) {
            this.#startFrame(this.#frameSize, this.#head.subarray(0, this.#headLength)); // spans chunks
            break;
          }
          const body = offset === 0 && bodyLength === end
            ? chunk
            : chunk.subarray(offset, offset + bodyLength);
          offset += bodyLength;
          this.#state = "frame-length";
          this.#splitFrame(body);
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

  /** Decodes and delivers the complete frame in `bytes[start, end)` (type byte first). */
  #frameAt(bytes: Uint8Array, view: DataView, start: number, end: number): void {
    const type = bytes[start];
    if (
      (type === MessageType.RpcRequest || type === MessageType.RpcResponse) &&
      end - start >= RPC_FIELDS && view.getInt32(start + 9) === end - start - RPC_FIELDS
    ) {
      // The hottest frames, well-formed: decoded here without the general reader (a malformed one
      // goes to the reader below, which names what is wrong).
      this.#rpc(type, readInt64(view, start + 1), bytes.subarray(start + RPC_FIELDS, end));
      return;
    }
    this.#deliver(this.#reader.read(bytes, view, start, end));
  }

  /** Delivers a well-formed RpcRequest / RpcResponse (via `rpcResponse` where the handler has it). */
  #rpc(type: number, requestId: Int64, body: Uint8Array): void {
    const handler = this.#handler;
    if (type === MessageType.RpcRequest) {
      handler.message({ type: MessageType.RpcRequest, requestId, body });
    } else if (handler.rpcResponse !== undefined) {
      handler.rpcResponse(requestId, body);
    } else {
      handler.message({ type: MessageType.RpcResponse, requestId, body });
    }
  }

  /** Enters `"frame-body"` when `chunk[offset, end)` is exactly a large frame's fixed fields. */
  #awaitBody(chunk: Uint8Array, offset: number, end: number, frameSize: number): boolean {
    const available = end - offset;
    if (
      available === 0 || available !== fixedFieldsLength(chunk[offset]!) ||
      frameSize - available < SPLIT_BODY_MIN
    ) {
      return false;
    }
    this.#headBytes().set(offset === 0 ? chunk : chunk.subarray(offset));
    this.#headLength = available;
    this.#frameSize = frameSize;
    this.#state = "frame-body";
    return true;
  }

  /** `#head`, allocated on first use (before anything writes a head into it). */
  #headBytes(): Uint8Array {
    if (this.#head === EMPTY) {
      this.#head = new Uint8Array(MAX_FIXED_FIELDS);
      this.#headView = new DataView(this.#head.buffer);
    }
    return this.#head;
  }

  /**
   * An oversized frame's head is in: a reply within `maxReplyFrameLength` (and the memory limit)
   * is received as usual (`"frame-body"`); anything else is skipped, or fails the decoder when the
   * handler cannot be told.
   */
  #decideOversized(): void {
    const frameSize = this.#frameSize;
    const frameLength = frameSize + LENGTH_FIELD;
    const type = this.#head[0]!;
    const over = this.#limits.exceeded(type, frameLength);
    if (over === undefined) {
      // Only replies get here (anything else within maxFrameLength is a plain frame), and their
      // head is exactly their fixed fields.
      this.#state = "frame-body";
      return;
    }
    if (this.#handler.oversized === undefined) {
      throw this.#limits.tooLarge(frameLength, over.limit, type);
    }
    this.#skipped = readOversizedFrame(this.#head, this.#headView, frameLength, over);
    // An UploadStream's body count is the frame's last 8 bytes: its meta is skipped up to them.
    this.#tailPending = type === MessageType.UploadStream;
    this.#skipRemaining = frameSize - this.#headLength - (this.#tailPending ? LENGTH_FIELD : 0);
    this.#state = "skip";
    if (this.#skipRemaining === 0) this.#endSkip();
  }

  /**
   * A frame above the plain limit only because a request-body limit lowered it (not a reply, and
   * within its limits): received as a frame that spans chunks, its type byte included. Returns
   * false when the frame's head must decide.
   */
  #receivedWhole(type: number): boolean {
    if (type === MessageType.ChunkFetchSuccess || type === MessageType.RpcResponse) return false;
    if (this.#limits.exceeded(type, this.#frameSize + LENGTH_FIELD) !== undefined) return false;
    this.#startFrame(this.#frameSize, EMPTY);
    return true;
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
    this.#skipped = { ...this.#skipped!, bodyByteCount: count } as OversizedFrame;
    this.#skipRemaining = count;
    this.#state = "skip";
    if (count === 0) this.#endSkip();
  }

  #endSkip(): void {
    if (this.#tailPending) {
      this.#tailPending = false;
      this.#state = "skip-tail";
      return;
    }
    const frame = this.#skipped!;
    this.#skipped = undefined;
    this.#state = "frame-length";
    this.#handler.oversized!(frame);
  }

  /**
   * Enters `"frame"`: a new `frameSize`-byte buffer starting with `start` (`"frame-body"`'s too),
   * charged to `memory` first; without room, enters `"awaiting-room"` instead.
   */
  #startFrame(frameSize: number, start: Uint8Array): void {
    if (!this.#charge.reserve(frameSize, start)) {
      this.#frameSize = frameSize;
      this.#state = "awaiting-room";
      return;
    }
    this.#allocateFrame(frameSize, start);
  }

  #allocateFrame(frameSize: number, start: Uint8Array): void {
    const frame = this.#allocate(frameSize);
    if (frame.length !== frameSize) {
      throw new TransportError(
        `FrameDecoder: the allocate option returned ${frame.length} bytes for a frame of ` +
          `${frameSize}`,
      );
    }
    frame.set(start);
    this.#frame = frame;
    this.#frameFilled = start.length;
    this.#state = "frame";
  }

  /** Delivers the frame whose fixed fields are in `#head` and whose body is `body`. */
  #splitFrame(body: Uint8Array): void {
    const view = this.#headView;
    const type = this.#head[0]!;
    if (type === MessageType.ChunkFetchSuccess) {
      const streamId = readInt64(view, 1);
      const chunkIndex = view.getInt32(9);
      this.#handler.message({ type: MessageType.ChunkFetchSuccess, streamId, chunkIndex, body });
      return;
    }
    if (type === MessageType.OneWayMessage && view.getInt32(1) === body.length) {
      this.#handler.message({ type: MessageType.OneWayMessage, body });
      return;
    }
    if (type !== MessageType.OneWayMessage && view.getInt32(9) === body.length) {
      this.#rpc(type, readInt64(view, 1), body);
      return;
    }
    // A body length that disagrees: joined, the general reader names what is wrong.
    const frame = new Uint8Array(this.#headLength + body.length);
    frame.set(this.#head.subarray(0, this.#headLength));
    frame.set(body, this.#headLength);
    this.#deliver(this.#reader.read(frame, new DataView(frame.buffer), 0, frame.length));
  }

  #deliver(message: Message): void {
    if (message.type === MessageType.StreamResponse || message.type === MessageType.UploadStream) {
      const count = message.type === MessageType.StreamResponse
        ? message.byteCount
        : message.bodyByteCount;
      this.#streamRemaining = count;
      if (count > 0) this.#state = "stream-body";
      this.#handler.message(message);
      if (count === 0) this.#handler.bodyEnd();
      return;
    }
    this.#handler.message(message);
  }
}

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
/** An RpcRequest's / RpcResponse's type byte, requestId and bodyLength: the bytes before its body. */
const RPC_FIELDS = 1 + 8 + 4;
/** Frames with at least this much left to receive are read straight into their buffer. */
const DIRECT_READ_MIN = 16 * 1024;
/** Skipped bytes are read into a reused buffer of this size. */
const SKIP_SCRATCH = 64 * 1024;
/** Bodies at least this large are awaited as a chunk of their own (`"frame-body"`). */
const SPLIT_BODY_MIN = DIRECT_READ_MIN;
/** The longest fixed-field prefix {@linkcode fixedFieldsLength} knows. */
const MAX_FIXED_FIELDS = RPC_FIELDS;

/** Bytes before the body of a frame of `type` whose body ends the frame; 0 for other types. */
function fixedFieldsLength(type: number): number {
  switch (type) {
    case MessageType.ChunkFetchSuccess: // type, streamId, chunkIndex
    case MessageType.RpcRequest: // type, requestId, bodyLength
    case MessageType.RpcResponse:
      return RPC_FIELDS;
    case MessageType.OneWayMessage: // type, bodyLength
      return 1 + 4;
    default:
      return 0;
  }
}
