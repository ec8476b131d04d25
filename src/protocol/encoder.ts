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
import { encodeHotFrame } from "./hot-frames.ts";
import { writeInt64 } from "./int64.ts";
import { measureFrame, PREFIX_LENGTH } from "./frame-layout.ts";
import { messageFields } from "./message-fields.ts";
import type { Int64, Message } from "./messages.ts";
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
  // The hottest frames in their common form are written by hand (hot-frames.ts); a null or
  // undefined message falls through to measureFrame's typed error.
  if (message != null && encodeHotFrame(message, output)) return;
  encodeByTable(message, output);
}

/**
 * The general path of {@linkcode encodeFrame}: writes `message` field by field as its row of the
 * table (message-fields.ts) describes it, after `measureFrame` validated and measured it.
 *
 * @throws InvalidArgumentError naming the field and the value when a field cannot be encoded.
 */
export function encodeByTable(message: Message, output: FrameOutput): void {
  const layout = measureFrame(message);
  const spec = messageFields[message.type]!;
  const body = layout.body;
  output.reserve(layout.headerLength);
  let bytes = output.bytes;
  let view = output.view;
  let at = output.offset;
  writeInt64(view, at, layout.frameLength, "frame length");
  bytes[at + 8] = message.type;
  at += PREFIX_LENGTH;
  const values = layout.values;
  const fields = spec.fields;
  let strings = 0;
  for (let i = 0; i < fields.length; i++) {
    const { name, kind } = fields[i]!;
    const value = values[i];
    switch (kind) {
      case "int64":
      case "byteCount":
        writeInt64(view, at, value as Int64, name);
        at += 8;
        break;
      case "int32":
        view.setInt32(at, value as number);
        at += 4;
        break;
      case "string":
        at = writeString(bytes, view, at, value as string, layout.strings[strings++]!);
        break;
      case "bytes": {
        const field = value as Uint8Array;
        view.setInt32(at, field.length);
        at += 4;
        if (i === layout.passThrough) {
          // Large bytes between fields: passed through between the header and a tail region.
          output.passThrough(field);
          output.reserve(layout.tailLength);
          bytes = output.bytes;
          view = output.view;
          at = output.offset;
        } else {
          bytes.set(field, at);
          at += field.length;
        }
        break;
      }
    }
  }
  if (body === undefined) return;
  if (spec.body === "sized") {
    view.setInt32(at, body.length);
    at += 4;
  }
  if (layout.inlineBody) bytes.set(body, at);
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
