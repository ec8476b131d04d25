/**
 * Turns the bytes of one complete frame (everything after the 8 length bytes) into a
 * {@linkcode Message}, following Spark's `Message.Type.decode` and each message's `decode`: the
 * general, table-driven path (the fields of each message as message-fields.ts lists them). The
 * decoder reads the hottest frames by hand first (hot-frames.ts).
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
import { type FieldKind, messageFields, type MessageSpec } from "./message-fields.ts";
import { type Int64, type Message, messageTypeName } from "./messages.ts";
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
      const spec = messageFields[type];
      if (spec === undefined) {
        throw new ProtocolError(
          `Cannot decode frame of length ${this.frameLength()}: unknown message type ${type} ` +
            `(expected 0..${messageFields.length - 1})`,
        );
      }
      return this.readFields(spec);
    } finally {
      // Do not keep the caller's buffer alive between frames.
      this.bytes = EMPTY;
      this.view = EMPTY_VIEW;
    }
  }

  /** Reads the fields `spec` lists, in order, then the body as `spec.body` says. */
  private readFields(spec: MessageSpec): Message {
    const message: Record<string, unknown> = { type: spec.type };
    const fields = spec.fields;
    for (let i = 0; i < fields.length; i++) {
      const { name, kind } = fields[i]!;
      switch (kind) {
        case "int64":
          message[name] = this.int64(name);
          break;
        case "int32":
          message[name] = this.int32(name);
          break;
        case "string":
          message[name] = this.string(name);
          break;
        case "byteCount":
          message[name] = this.byteCount(name);
          break;
        case "bytes":
          message[name] = this.bytesField(name, spec, i);
          break;
      }
    }
    switch (spec.body) {
      case "rest":
        message.body = this.rest();
        break;
      case "sized":
        message.body = this.lengthPrefixedRest();
        break;
      default:
        this.expectEnd();
    }
    return message as unknown as Message;
  }

  /**
   * An int32 length, then that many bytes, which must leave room for the fixed part of the fields
   * after them (UploadStream's meta, followed by its 8-byte bodyByteCount).
   */
  private bytesField(name: string, spec: MessageSpec, index: number): Uint8Array {
    const length = this.int32(`${name}Length`);
    const fields = spec.fields;
    let afterLength = spec.body === "sized" ? 4 : 0;
    for (let i = index + 1; i < fields.length; i++) {
      afterLength += MIN_FIELD_LENGTH[fields[i]!.kind];
    }
    const room = this.end - this.position - afterLength;
    if (length < 0 || length > room) {
      const names = fields.slice(index + 1).map((field) => field.name).concat(
        spec.body === "sized" ? ["bodyLength"] : [],
      );
      throw this.error(
        `${name}Length ${length} does not fit: expected 0..${Math.max(room, 0)} ` +
          `(the frame's remaining bytes minus the ${afterLength}-byte ${names.join(", ")})`,
      );
    }
    const value = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return value;
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

/** The fewest bytes a field of each kind takes (a string's or bytes' length field alone). */
const MIN_FIELD_LENGTH: Readonly<Record<FieldKind, number>> = {
  int64: 8,
  int32: 4,
  string: 4,
  byteCount: 8,
  bytes: 4,
};
