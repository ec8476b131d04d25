/**
 * Byte concatenation for tests: one new array holding `parts` in order (frame streams, wire
 * fixtures). Tests only; `src/` joins bytes where it needs to, without an extra copy.
 *
 * @module
 */

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
