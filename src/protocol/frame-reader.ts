/**
 * Turns the bytes of one complete frame (everything after the 8 length bytes) into a
 * {@linkcode Message}, following Spark's `Message.Type.decode` and each message's `decode`.
 *
 * Ferry is stricter than Spark where Spark's own encoder never produces what is rejected, so a
 * corrupt or hostile frame fails loudly instead of being misread:
 * - every field and string must lie inside the frame;
 * - messages without a body must end exactly where their last field ends (no trailing bytes);
 * - RpcRequest / RpcResponse / OneWayMessage carry an int32 body length that Spark's decoder
 *   ignores (the body is the rest of the frame); Ferry requires it to equal the rest of the frame;
 * - StreamResponse.byteCount and UploadStream.bodyByteCount must be in [0, 2^53 − 1].
 * Values Spark passes through unchecked (negative chunk indexes, shuffle ids, numChunks) are
 * passed through too: they are the application's business.
 *
 * Bodies and meta are `subarray` views of the frame's bytes: no copy.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { readInt64 } from "./int64.ts";
import { type Int64, type Message, MessageType, messageTypeName } from "./messages.ts";
import { readUtf8 } from "./utf8.ts";

/** Reads one frame at a time; one instance is reused by a decoder for all its frames. */
export class FrameReader {
  // Shared empty placeholders: a decoder (one per connection) allocates nothing until a frame.
  private bytes: Uint8Array = EMPTY;
  private view: DataView = EMPTY_VIEW;
  private start = 0;
  private position = 0;
  private end = 0;
  private type = 0;

  /**
   * Decodes the frame in `bytes[start, end)` (the type byte first; `view` covers `bytes`). Bodies
   * in the result are views of `bytes`.
   *
   * @throws ProtocolError naming the frame, the field and the offending value.
   */
  read(bytes: Uint8Array, view: DataView, start: number, end: number): Message {
    this.bytes = bytes;
    this.view = view;
    this.start = start;
    this.end = end;
    const type = bytes[start]!;
    this.type = type;
    this.position = start + 1;
    try {
      return this.readFields(type);
    } finally {
      // Do not keep the caller's buffer alive between frames.
      this.bytes = EMPTY;
      this.view = EMPTY_VIEW;
    }
  }

  private readFields(type: number): Message {
    switch (type) {
      case MessageType.ChunkFetchRequest: {
        const streamId = this.int64("streamId");
        const chunkIndex = this.int32("chunkIndex");
        this.expectEnd();
        return { type: MessageType.ChunkFetchRequest, streamId, chunkIndex };
      }
      case MessageType.ChunkFetchSuccess: {
        const streamId = this.int64("streamId");
        const chunkIndex = this.int32("chunkIndex");
        return { type: MessageType.ChunkFetchSuccess, streamId, chunkIndex, body: this.rest() };
      }
      case MessageType.ChunkFetchFailure: {
        const streamId = this.int64("streamId");
        const chunkIndex = this.int32("chunkIndex");
        const error = this.string("error");
        this.expectEnd();
        return { type: MessageType.ChunkFetchFailure, streamId, chunkIndex, error };
      }
      case MessageType.RpcRequest:
      case MessageType.RpcResponse: {
        const requestId = this.int64("requestId");
        const body = this.lengthPrefixedRest();
        return type === MessageType.RpcRequest
          ? { type: MessageType.RpcRequest, requestId, body }
          : { type: MessageType.RpcResponse, requestId, body };
      }
      case MessageType.RpcFailure: {
        const requestId = this.int64("requestId");
        const error = this.string("error");
        this.expectEnd();
        return { type: MessageType.RpcFailure, requestId, error };
      }
      case MessageType.StreamRequest: {
        const streamId = this.string("streamId");
        this.expectEnd();
        return { type: MessageType.StreamRequest, streamId };
      }
      case MessageType.StreamResponse: {
        const streamId = this.string("streamId");
        const byteCount = this.byteCount("byteCount");
        this.expectEnd();
        return { type: MessageType.StreamResponse, streamId, byteCount };
      }
      case MessageType.StreamFailure: {
        const streamId = this.string("streamId");
        const error = this.string("error");
        this.expectEnd();
        return { type: MessageType.StreamFailure, streamId, error };
      }
      case MessageType.OneWayMessage:
        return { type: MessageType.OneWayMessage, body: this.lengthPrefixedRest() };
      case MessageType.UploadStream: {
        const requestId = this.int64("requestId");
        const metaLength = this.int32("metaLength");
        // The meta is followed by the 8-byte bodyByteCount.
        const room = this.end - this.position - 8;
        if (metaLength < 0 || metaLength > room) {
          throw this.error(
            `metaLength ${metaLength} does not fit: expected 0..${Math.max(room, 0)} ` +
              `(the frame's remaining bytes minus the 8-byte bodyByteCount)`,
          );
        }
        const meta = this.bytes.subarray(this.position, this.position + metaLength);
        this.position += metaLength;
        const bodyByteCount = this.byteCount("bodyByteCount");
        this.expectEnd();
        return { type: MessageType.UploadStream, requestId, meta, bodyByteCount };
      }
      case MessageType.MergedBlockMetaRequest: {
        const requestId = this.int64("requestId");
        const appId = this.string("appId");
        const shuffleId = this.int32("shuffleId");
        const shuffleMergeId = this.int32("shuffleMergeId");
        const reduceId = this.int32("reduceId");
        this.expectEnd();
        return {
          type: MessageType.MergedBlockMetaRequest,
          requestId,
          appId,
          shuffleId,
          shuffleMergeId,
          reduceId,
        };
      }
      case MessageType.MergedBlockMetaSuccess: {
        const requestId = this.int64("requestId");
        const numChunks = this.int32("numChunks");
        return {
          type: MessageType.MergedBlockMetaSuccess,
          requestId,
          numChunks,
          body: this.rest(),
        };
      }
      default:
        throw new ProtocolError(
          `Cannot decode frame of length ${this.frameLength()}: unknown message type ${type} ` +
            `(expected 0..12)`,
        );
    }
  }

  private need(bytes: number, field: string): void {
    if (this.end - this.position < bytes) {
      throw this.error(
        `field ${field} needs ${bytes} bytes at offset ${this.offset()} but only ` +
          `${this.end - this.position} remain`,
      );
    }
  }

  private int32(field: string): number {
    this.need(4, field);
    const value = this.view.getInt32(this.position);
    this.position += 4;
    return value;
  }

  private int64(field: string): Int64 {
    this.need(8, field);
    const value = readInt64(this.view, this.position);
    this.position += 8;
    return value;
  }

  private byteCount(field: string): number {
    const value = this.int64(field);
    if (typeof value === "bigint" || value < 0) {
      throw this.error(`${field} ${value} is invalid: expected 0..${Number.MAX_SAFE_INTEGER}`);
    }
    return value;
  }

  private string(field: string): string {
    const length = this.int32(`${field} length`);
    const remaining = this.end - this.position;
    if (length < 0 || length > remaining) {
      throw this.error(
        `${field} length ${length} at offset ${this.offset() - 4} is invalid: expected ` +
          `0..${remaining} (the bytes left in the frame)`,
      );
    }
    const text = readUtf8(this.bytes, this.position, length);
    this.position += length;
    return text;
  }

  /** An int32 body length followed by the body, which must be exactly the rest of the frame. */
  private lengthPrefixedRest(): Uint8Array {
    const bodyLength = this.int32("bodyLength");
    const remaining = this.end - this.position;
    if (bodyLength !== remaining) {
      throw this.error(
        `bodyLength ${bodyLength} disagrees with the ${remaining} body bytes left in the frame`,
      );
    }
    return this.rest();
  }

  private rest(): Uint8Array {
    const body = this.bytes.subarray(this.position, this.end);
    this.position = this.end;
    return body;
  }

  private expectEnd(): void {
    if (this.position !== this.end) {
      throw this.error(
        `${this.end - this.position} unexpected trailing bytes after the last field at offset ` +
          `${this.offset()} (expected the frame to end there)`,
      );
    }
  }

  /** Offset within the frame, counting the 8 length bytes (as a hex dump of the frame shows). */
  private offset(): number {
    return this.position - this.start + 8;
  }

  private frameLength(): number {
    return this.end - this.start + 8;
  }

  private error(detail: string): ProtocolError {
    return new ProtocolError(
      `Cannot decode ${
        messageTypeName[this.type]
      } frame of length ${this.frameLength()}: ${detail}`,
    );
  }
}

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
