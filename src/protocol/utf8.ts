/**
 * UTF-8 for the protocol's strings (Spark's `Encoders.Strings`: `int32 byteLength` + UTF-8).
 *
 * Encoding measures a string's UTF-8 length first (so the encoder allocates each frame's header
 * exactly once), then writes it straight into that header. Decoding matches Java's
 * `new String(bytes, UTF_8)`: malformed sequences become U+FFFD instead of failing, and a leading
 * U+FEFF is kept (a BOM is data here, not a marker).
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Strings up to this many bytes are written/read by a plain loop when they are ASCII. */
const ASCII_LOOP_MAX = 64;

/**
 * The number of bytes `TextEncoder` produces for `text`. A lone surrogate counts 3 bytes, as it is
 * encoded as U+FFFD.
 */
export function utf8ByteLength(text: string): number {
  const length = text.length;
  let bytes = length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: 2 UTF-16 units become 4 bytes.
        bytes += 2;
        i++;
      } else {
        bytes += 2;
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * Writes `text` (whose UTF-8 length is `byteLength`, from {@linkcode utf8ByteLength}) into
 * `target` at `offset`.
 */
export function writeUtf8(
  target: Uint8Array,
  offset: number,
  text: string,
  byteLength: number,
): void {
  if (byteLength === text.length && byteLength <= ASCII_LOOP_MAX) {
    for (let i = 0; i < byteLength; i++) target[offset + i] = text.charCodeAt(i);
    return;
  }
  encoder.encodeInto(text, target.subarray(offset, offset + byteLength));
}

/** Decodes `length` bytes of UTF-8 at `offset` of `source`, replacing malformed input (as Java). */
export function readUtf8(source: Uint8Array, offset: number, length: number): string {
  if (length <= ASCII_LOOP_MAX) {
    let text = "";
    let i = 0;
    for (; i < length; i++) {
      const byte = source[offset + i]!;
      if (byte >= 0x80) break;
      text += String.fromCharCode(byte);
    }
    if (i === length) return text;
  }
  return decoder.decode(source.subarray(offset, offset + length));
}
