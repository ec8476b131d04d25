/**
 * The byte patterns of the interop convention (`docs/interop.md`), shared by the server that
 * produces them and the client that checks them.
 *
 * @module
 */

/** Period of every pattern here: byte values repeat every 256 positions. */
const PERIOD = 256;

/** Byte i of chunk k of a stream registered by `open:<n>:<size>` is `(k*31 + i) & 0xff`. */
export function openChunkContent(chunkIndex: number, size: number): Uint8Array {
  const chunk = new Uint8Array(size);
  const start = (chunkIndex * 31) & 0xff;
  const head = Math.min(size, PERIOD);
  for (let i = 0; i < head; i++) chunk[i] = (start + i) & 0xff;
  repeatHead(chunk, head);
  return chunk;
}

/** Byte i of stream `gen:<size>` is `i & 0xff`. */
export function genByteAt(index: number): number {
  return index & 0xff;
}

/** Piece size of `gen:` stream bodies: a multiple of the period, so every piece is the same. */
export const GEN_PIECE_SIZE = 64 * 1024;

let genPiece: Uint8Array | undefined;

/**
 * The body of stream `gen:<size>`, as views of one shared, never-mutated 64 KiB piece (no copy,
 * no allocation per piece).
 */
export function* genStreamBody(size: number): Generator<Uint8Array> {
  if (genPiece === undefined) {
    genPiece = new Uint8Array(GEN_PIECE_SIZE);
    for (let i = 0; i < PERIOD; i++) genPiece[i] = genByteAt(i);
    repeatHead(genPiece, PERIOD);
  }
  for (let offset = 0; offset < size; offset += GEN_PIECE_SIZE) {
    yield size - offset >= GEN_PIECE_SIZE ? genPiece : genPiece.subarray(0, size - offset);
  }
}

/** `length` pseudo-random bytes (xorshift32 from `seed`): "varied bytes" that any bug scrambles. */
export function variedBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed | 0 || 1;
  let i = 0;
  for (const whole = length - 3; i < whole; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state;
    out[i + 1] = state >>> 8;
    out[i + 2] = state >>> 16;
    out[i + 3] = state >>> 24;
  }
  for (; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state;
  }
  return out;
}

/** Fills `bytes` by repeating its first `filled` bytes (doubling copies). */
function repeatHead(bytes: Uint8Array, filled: number): void {
  let done = filled;
  while (done > 0 && done < bytes.length) {
    const count = Math.min(done, bytes.length - done);
    bytes.copyWithin(done, 0, count);
    done += count;
  }
}
