/**
 * A {@linkcode FrameHandler} that records what a `FrameDecoder` delivers, in a form independent of
 * how the input was split: each message, plus (for StreamResponse / UploadStream) all its raw bytes
 * joined. It also checks the handler contract as it goes (bytes only inside a stream, never empty,
 * never more than announced, `bodyEnd` exactly once) and throws a plain `Error` on a violation.
 *
 * @module
 */

import type { FrameHandler } from "../../src/protocol/decoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import { concatBytes } from "./concat-bytes.ts";

export { concatBytes } from "./concat-bytes.ts";

/** One delivered message; `stream` holds the raw bytes that followed a streaming message. */
export interface RecordedFrame {
  readonly message: Message;
  readonly stream?: Uint8Array;
}

export class FrameRecorder implements FrameHandler {
  readonly frames: RecordedFrame[] = [];
  /** Body chunks exactly as delivered (for zero-copy checks). */
  readonly bodyChunks: Uint8Array[] = [];
  #open: { message: Message; expected: number; pieces: Uint8Array[]; received: number } | undefined;

  message(message: Message): void {
    if (this.#open !== undefined) {
      throw new Error(`message ${message.type} delivered while a stream body was still open`);
    }
    if (message.type === MessageType.StreamResponse || message.type === MessageType.UploadStream) {
      const expected = message.type === MessageType.StreamResponse
        ? message.byteCount
        : message.bodyByteCount;
      this.#open = { message, expected, pieces: [], received: 0 };
      return;
    }
    this.frames.push({ message });
  }

  body(chunk: Uint8Array): void {
    const open = this.#open;
    if (open === undefined) throw new Error("body bytes delivered outside a stream");
    if (chunk.length === 0) throw new Error("empty body chunk delivered");
    open.received += chunk.length;
    if (open.received > open.expected) {
      throw new Error(`stream body overran: ${open.received} > ${open.expected}`);
    }
    open.pieces.push(chunk);
    this.bodyChunks.push(chunk);
  }

  bodyEnd(): void {
    const open = this.#open;
    if (open === undefined) throw new Error("bodyEnd delivered outside a stream");
    if (open.received !== open.expected) {
      throw new Error(`bodyEnd after ${open.received} of ${open.expected} bytes`);
    }
    this.#open = undefined;
    this.frames.push({ message: open.message, stream: concatBytes(open.pieces) });
  }

  /** Whether a stream body is still being received. */
  get inStream(): boolean {
    return this.#open !== undefined;
  }
}
