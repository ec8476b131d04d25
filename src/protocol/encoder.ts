/**
 * Encodes {@linkcode Message}s into Spark `network-common` frames, byte for byte what Spark's
 * `MessageEncoder` writes.
 *
 * {@linkcode encodeFrame} writes one frame into a {@linkcode FrameOutput}: the header (frame
 * length, type, fields) into one reserved region exactly as long as needed, with a body of at most
 * {@linkcode INLINE_BODY_MAX} bytes copied behind it (a small message is one contiguous region); a
 * larger body is passed through by reference, never copied. A connection's writer is such an
 * output: it reserves regions back to back in a slab shared by the process's writers, so the frames
 * one connection writes in one tick are already one contiguous write (see
 * src/connection/frame-slab.ts).
 *
 * {@linkcode encodeMessage} is the standalone form: it returns the frame as chunks to write in
 * order, headers carved from shared slabs (see header-allocator.ts: a header chunk may share its
 * `ArrayBuffer` with other headers, so never transfer its `.buffer`).
 *
 * StreamResponse and UploadStream frames do not contain their payload: the caller writes the
 * `byteCount` / `bodyByteCount` raw bytes after the frame itself.
 *
 * @module
 */

import { HeaderAllocator } from "./header-allocator.ts";
import { writeInt64 } from "./int64.ts";
import { INLINE_BODY_MAX, measureFrame, PREFIX_LENGTH } from "./frame-layout.ts";
import { type Message, MessageType } from "./messages.ts";
import { writeUtf8 } from "./utf8.ts";

export { INLINE_BODY_MAX } from "./frame-layout.ts";

/**
 * Where {@linkcode encodeFrame} writes. `reserve(length)` makes `bytes[offset, offset + length)`
 * this frame's to fill (`view` covers `bytes`); `passThrough(chunk)` appends a chunk by reference
 * after everything reserved so far. The encoder fills a region completely before it reserves
 * again or passes a chunk through, and never throws after its first `reserve`.
 */
export interface FrameOutput {
  bytes: Uint8Array;
  view: DataView;
  offset: number;
  reserve(length: number): void;
  passThrough(chunk: Uint8Array): void;
}

/**
 * The value of the frame-length field for `message`: the header, its fields and the body when the
 * body travels inside the frame (not the raw bytes after a StreamResponse / UploadStream).
 *
 * @throws InvalidArgumentError when a field is invalid (as {@linkcode encodeMessage}).
 *
 * @example
 * ```ts
 * import { frameLength, MessageType } from "ferry-transport/protocol";
 *
 * console.log(frameLength({ type: MessageType.OneWayMessage, body: new Uint8Array(100) }));
 * ```
 */
export function frameLength(message: Message): number {
  return measureFrame(message).frameLength;
}

/** An RpcRequest / RpcResponse header: frame length, type, requestId, bodyLength. */
const RPC_HEADER_LENGTH = 8 + 1 + 8 + 4;

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

/** Collects a frame as chunks, headers from shared slabs (the output of `encodeMessage`). */
class ChunkCollector implements FrameOutput {
  bytes: Uint8Array = EMPTY;
  view: DataView = EMPTY_VIEW;
  offset = 0;
  #chunks: Uint8Array[] = [];
  #reserved = 0;
  readonly #headers = new HeaderAllocator();

  reserve(length: number): void {
    this.#takeRegion();
    this.#headers.allocate(length);
    this.bytes = this.#headers.bytes;
    this.view = this.#headers.view;
    this.offset = this.#headers.offset;
    this.#reserved = length;
  }

  passThrough(chunk: Uint8Array): void {
    this.#takeRegion();
    this.#chunks.push(chunk);
  }

  /** The chunks of the frame just encoded; the collector is empty again. */
  take(): Uint8Array[] {
    this.#takeRegion();
    const chunks = this.#chunks;
    this.#chunks = [];
    // Do not keep a large dedicated header alive until the next encode.
    this.bytes = EMPTY;
    this.view = EMPTY_VIEW;
    return chunks;
  }

  #takeRegion(): void {
    if (this.#reserved === 0) return;
    this.#chunks.push(this.#headers.region(this.#reserved));
    this.#reserved = 0;
  }
}

const collector = new ChunkCollector();

/**
 * Encodes one frame. Returns its bytes as chunks to write in order: the header (with a small body
 * inlined), then, for a body above {@linkcode INLINE_BODY_MAX}, the body itself (same object, not a
 * copy). The caller must not mutate a passed-through body until it has been written.
 *
 * @throws InvalidArgumentError naming the field and the value when a field cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeMessage, MessageType } from "ferry-transport/protocol";
 *
 * const request = { type: MessageType.ChunkFetchRequest, streamId: 7n, chunkIndex: 0 } as const;
 * const parts = encodeMessage(request);
 * // Write the parts in order (a large body is its own part, never copied).
 * console.log(parts.reduce((total, part) => total + part.byteLength, 0)); // 21
 * ```
 */
export function encodeMessage(message: Message): Uint8Array[] {
  encodeFrame(message, collector);
  return collector.take();
}

/**
 * Encodes one frame into `output` (see {@linkcode FrameOutput}). Validates first: a message that
 * cannot be encoded throws before anything is reserved, so the output is untouched.
 *
 * @throws InvalidArgumentError naming the field and the value when a field cannot be encoded.
 */
export function encodeFrame(message: Message, output: FrameOutput): void {
  // A null or undefined message falls through to measureFrame's typed error.
  if (
    message != null &&
    (message.type === MessageType.RpcRequest || message.type === MessageType.RpcResponse)
  ) {
    // The hottest frames, in their common form (a uint32 id, a small body): the fields are valid
    // by construction here, and both int64s (frame length, id) have a zero high word.
    const { requestId, body } = message;
    if (
      typeof requestId === "number" && (requestId >>> 0) === requestId &&
      body instanceof Uint8Array && body.length <= INLINE_BODY_MAX
    ) {
      const length = RPC_HEADER_LENGTH + body.length;
      output.reserve(length);
      const view = output.view;
      const at = output.offset;
      view.setUint32(at, 0);
      view.setUint32(at + 4, length);
      output.bytes[at + 8] = message.type;
      view.setUint32(at + 9, 0);
      view.setUint32(at + 13, requestId);
      view.setInt32(at + 17, body.length);
      output.bytes.set(body, at + RPC_HEADER_LENGTH);
      return;
    }
  }
  const layout = measureFrame(message);
  const body = layout.body;
  const inline = body !== undefined && body.length <= INLINE_BODY_MAX;
  const headerLength = PREFIX_LENGTH + layout.fieldsLength + (inline ? body.length : 0);
  output.reserve(headerLength);
  const bytes = output.bytes;
  const view = output.view;
  const start = output.offset;
  writeInt64(view, start, layout.frameLength, "frame length");
  bytes[start + 8] = message.type;
  let at = start + PREFIX_LENGTH;

  switch (message.type) {
    case MessageType.ChunkFetchRequest:
    case MessageType.ChunkFetchSuccess:
    case MessageType.ChunkFetchFailure:
      writeInt64(view, at, message.streamId, "streamId");
      view.setInt32(at + 8, message.chunkIndex);
      at += 12;
      if (message.type === MessageType.ChunkFetchFailure) {
        at = writeString(bytes, view, at, message.error, layout.string0);
      }
      break;
    case MessageType.RpcRequest:
    case MessageType.RpcResponse:
      writeInt64(view, at, message.requestId, "requestId");
      view.setInt32(at + 8, message.body.length);
      at += 12;
      break;
    case MessageType.RpcFailure:
      writeInt64(view, at, message.requestId, "requestId");
      at = writeString(bytes, view, at + 8, message.error, layout.string0);
      break;
    case MessageType.StreamRequest:
      at = writeString(bytes, view, at, message.streamId, layout.string0);
      break;
    case MessageType.StreamResponse:
      at = writeString(bytes, view, at, message.streamId, layout.string0);
      writeInt64(view, at, message.byteCount, "byteCount");
      at += 8;
      break;
    case MessageType.StreamFailure:
      at = writeString(bytes, view, at, message.streamId, layout.string0);
      at = writeString(bytes, view, at, message.error, layout.string1);
      break;
    case MessageType.OneWayMessage:
      view.setInt32(at, message.body.length);
      at += 4;
      break;
    case MessageType.UploadStream: {
      const meta = message.meta;
      writeInt64(view, at, message.requestId, "requestId");
      view.setInt32(at + 8, meta.length);
      at += 12;
      if (meta.length > INLINE_BODY_MAX) {
        // The meta sits between fields: pass it through between the header and an 8-byte tail.
        output.passThrough(meta);
        output.reserve(8);
        writeInt64(output.view, output.offset, message.bodyByteCount, "bodyByteCount");
        return;
      }
      bytes.set(meta, at);
      writeInt64(view, at + meta.length, message.bodyByteCount, "bodyByteCount");
      break;
    }
    case MessageType.MergedBlockMetaRequest:
      writeInt64(view, at, message.requestId, "requestId");
      at = writeString(bytes, view, at + 8, message.appId, layout.string0);
      view.setInt32(at, message.shuffleId);
      view.setInt32(at + 4, message.shuffleMergeId);
      view.setInt32(at + 8, message.reduceId);
      at += 12;
      break;
    case MessageType.MergedBlockMetaSuccess:
      writeInt64(view, at, message.requestId, "requestId");
      view.setInt32(at + 8, message.numChunks);
      at += 12;
      break;
  }

  if (body === undefined) return;
  if (inline) bytes.set(body, at);
  else output.passThrough(body);
}

function writeString(
  header: Uint8Array,
  view: DataView,
  at: number,
  text: string,
  byteLength: number,
): number {
  view.setInt32(at, byteLength);
  writeUtf8(header, at + 4, text, byteLength);
  return at + 4 + byteLength;
}
