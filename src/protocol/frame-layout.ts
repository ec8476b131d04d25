/**
 * The encoder's first step: validates every field of a {@linkcode Message} and computes the sizes
 * of its frame, so that a message that cannot be encoded fails with an `InvalidArgumentError`
 * naming the field and the value before a single byte is written anywhere.
 *
 * {@linkcode measureFrame} returns one shared, reused {@linkcode FrameLayout} (no allocation per
 * frame on the hot path); it is valid until the next call, and encoding is synchronous.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { type Int64, type Message, messageTypeName } from "./messages.ts";
import { MAX_FIELDS, MAX_STRINGS, messageFields, messageSpec } from "./message-fields.ts";
import { utf8ByteLength } from "./utf8.ts";

/**
 * Largest body copied into the header buffer; larger bodies are passed through as their own chunk.
 *
 * 16 KiB: copying that much costs on the order of a microsecond, while every extra chunk costs an
 * extra write call in the adapter (a syscall or a libuv/tokio request for TCP, a separate message
 * or a concatenation for WebSockets) which is several microseconds on its own. Above this size the
 * copy starts to dominate and zero-copy wins; it is also one TLS record's worth of plaintext.
 *
 * @example
 * ```ts
 * import { INLINE_BODY_MAX } from "ferry-transport/protocol";
 *
 * console.log(`bodies up to ${INLINE_BODY_MAX} bytes are copied into the frame`);
 * ```
 */
export const INLINE_BODY_MAX = 16 * 1024;

/** Bytes before the fields: frame length (int64) and type (uint8). */
export const PREFIX_LENGTH = 9;

/** Sizes of one frame, as {@linkcode measureFrame} computed them. */
export interface FrameLayout {
  /** The frame-length field. */
  frameLength: number;
  /**
   * Bytes of the frame's first region: prefix, fields and (when inline) the body; without a
   * passed-through `bytes` field and whatever follows it.
   */
  headerLength: number;
  /** The in-frame body (RPC payload, chunk, bitmap) when the message has one. */
  body: Uint8Array | undefined;
  /** Whether the body is copied into the header (at most {@linkcode INLINE_BODY_MAX} bytes). */
  inlineBody: boolean;
  /**
   * Index in the row's fields of a `bytes` field above {@linkcode INLINE_BODY_MAX}, passed through
   * by reference between the header and a second region of `tailLength` bytes; -1 when none.
   */
  passThrough: number;
  tailLength: number;
  /** UTF-8 byte lengths of the message's strings, in wire order. */
  readonly strings: number[];
  /** The values of the message's fields, in its row's order (read once, for the writer too). */
  readonly values: unknown[];
}

const INT32_MAX = 0x7fff_ffff;
const INT32_MIN = -0x8000_0000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const layout: FrameLayout = {
  frameLength: 0,
  headerLength: 0,
  body: undefined,
  inlineBody: false,
  passThrough: -1,
  tailLength: 0,
  strings: new Array<number>(MAX_STRINGS).fill(0),
  values: new Array<unknown>(MAX_FIELDS).fill(undefined),
};

/**
 * Validates every field of `message` as its row of the table (message-fields.ts) describes it,
 * and computes its sizes into the shared layout. The fixed-size fields, byte arrays and the body
 * are checked first, in wire order, then the strings: a string's UTF-8 length costs a pass over
 * its text, spent only once everything else is valid.
 * @throws InvalidArgumentError naming the field and the value when a field cannot be encoded.
 */
export function measureFrame(message: Message): FrameLayout {
  if (message === null || typeof message !== "object") {
    throw new InvalidArgumentError(
      `Cannot encode message: expected a message object, got ${
        message === null ? "null" : typeof message
      }`,
    );
  }
  const spec = messageSpec(message.type);
  if (spec === undefined) {
    const type = (message as { type: unknown }).type;
    throw new InvalidArgumentError(
      `Cannot encode message: unknown message type ${String(type)} ` +
        `(expected 0..${messageFields.length - 1})`,
    );
  }
  const values = layout.values;
  const fields = spec.fields;
  for (let i = 0; i < fields.length; i++) {
    const { name, kind } = fields[i]!;
    const value = values[i] = (message as unknown as Record<string, unknown>)[name];
    if (kind === "int64") checkInt64(value as Int64, message, name);
    else if (kind === "int32") checkInt32(value as number, message, name);
    else if (kind === "byteCount") checkByteCount(value as number, message, name);
    else if (kind === "bytes") checkBytes(value as Uint8Array, message, name, true);
  }
  const body = spec.body === "sized" || spec.body === "rest"
    ? checkBytes(
      (message as { body?: Uint8Array }).body as Uint8Array,
      message,
      "body",
      spec.body === "sized",
    )
    : undefined;
  // Bytes of the region being measured (the header, or the tail after a passed-through field).
  let region = PREFIX_LENGTH;
  // Bytes before the tail region: the header and the passed-through field (0 when none).
  let beforeTail = 0;
  let strings = 0;
  layout.passThrough = -1;
  for (let i = 0; i < fields.length; i++) {
    const { name, kind } = fields[i]!;
    switch (kind) {
      case "int64":
      case "byteCount":
        region += 8;
        break;
      case "int32":
        region += 4;
        break;
      case "string": {
        const length = stringLength(values[i] as string, message, name);
        layout.strings[strings++] = length;
        region += 4 + length;
        break;
      }
      case "bytes": {
        const length = (values[i] as Uint8Array).length;
        if (length > INLINE_BODY_MAX) {
          // Passed through as its own chunk: the header ends at its length field.
          layout.passThrough = i;
          layout.headerLength = region + 4;
          beforeTail = region + 4 + length;
          region = 0;
        } else {
          region += 4 + length;
        }
        break;
      }
    }
  }
  if (spec.body === "sized") region += 4;
  const inline = body !== undefined && body.length <= INLINE_BODY_MAX;
  layout.body = body;
  layout.inlineBody = inline;
  layout.frameLength = beforeTail + region + (body === undefined ? 0 : body.length);
  if (layout.passThrough < 0) {
    layout.headerLength = region + (inline ? body!.length : 0);
    layout.tailLength = 0;
  } else {
    layout.tailLength = region + (inline ? body!.length : 0);
  }
  return layout;
}

function fieldName(message: Message, field: string): string {
  return `${messageName(message)}.${field}`;
}

function messageName(message: Message): string {
  return messageTypeName[message.type] ?? `message type ${message.type}`;
}

function checkInt32(value: number, message: Message, field: string): void {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected an int32 integer ` +
        `(-2147483648..2147483647), got ${describe(value)}`,
    );
  }
}

function checkInt64(value: Int64, message: Message, field: string): void {
  if (
    typeof value === "number" ? Number.isSafeInteger(value) : (
      typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX
    )
  ) return;
  throw new InvalidArgumentError(
    `Cannot encode ${fieldName(message, field)}: expected an integer number within ±(2^53 − 1) ` +
      `or a bigint within the signed int64 range, got ${describe(value)}`,
  );
}

function checkByteCount(value: number, message: Message, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected a non-negative safe integer, got ` +
        describe(value),
    );
  }
}

/** `int32Length`: the bytes' length goes into an int32 field (RPC bodies, meta). */
function checkBytes(
  value: Uint8Array,
  message: Message,
  field: string,
  int32Length: boolean,
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected a Uint8Array, got ${describe(value)}`,
    );
  }
  if (int32Length && value.length > INT32_MAX) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: ${value.length} bytes exceed the int32 length ` +
        `field (at most 2147483647)`,
    );
  }
  return value;
}

function stringLength(value: string, message: Message, field: string): number {
  if (typeof value !== "string") {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected a string, got ${describe(value)}`,
    );
  }
  const length = utf8ByteLength(value);
  if (length > INT32_MAX) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: its UTF-8 form is ${length} bytes, more than ` +
        `the int32 length field allows (2147483647)`,
    );
  }
  return length;
}

function describe(value: unknown): string {
  if (typeof value === "number") {
    // Show an unsafe integer exactly: String(2 ** 60) prints a rounded decimal.
    return Number.isInteger(value) && !Number.isSafeInteger(value)
      ? `${value} (exactly ${BigInt(value)})`
      : String(value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.slice(0, 100));
  if (value === null) return "null";
  if (typeof value === "object") return (value.constructor?.name ?? "object");
  return typeof value;
}
