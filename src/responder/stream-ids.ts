/**
 * Stream ids of `OneForOneStreamManager`: random 63-bit ids (so they cannot be guessed), Spark's
 * chunk-as-stream ids `<streamId>_<chunkIndex>`, and the canonical form (a `number` when safe,
 * else a `bigint`) under which ids are map keys.
 *
 * @module
 */

import { TransportError } from "../errors.ts";
import type { Int64 } from "../protocol/messages.ts";

const TWO_POW_32 = 4_294_967_296;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = BigInt(Number.MIN_SAFE_INTEGER);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const CHUNK_ID = /^(-?\d{1,19})_(-?\d{1,10})$/;
const MAX_ID_ATTEMPTS = 64;

/** Parses `<streamId>_<chunkIndex>` (int64, int32); `undefined` for any other id. */
export function parseStreamChunkId(
  id: string,
): { streamId: Int64; chunkIndex: number } | undefined {
  const match = CHUNK_ID.exec(id);
  if (match === null) return undefined;
  const big = BigInt(match[1]!);
  const chunkIndex = Number(match[2]!);
  if (
    big < INT64_MIN || big > INT64_MAX || chunkIndex < -0x8000_0000 || chunkIndex > 0x7fff_ffff
  ) {
    return undefined;
  }
  return { streamId: canonical(big), chunkIndex };
}

/** The canonical Int64 (number when safe) of a caller's id, so it matches the map's keys. */
export function canonicalStreamId(id: Int64): Int64 {
  return typeof id === "bigint" ? canonical(id) : id;
}

function canonical(value: bigint): Int64 {
  return value >= MIN_SAFE_BIG && value <= MAX_SAFE_BIG ? Number(value) : value;
}

/**
 * A random positive 63-bit id, not 0 and not `taken`. `bytes` (8 bytes) is scratch space reused
 * between calls; `fillRandom` fills it.
 * @throws TransportError when 64 draws in a row were unusable (a broken random source).
 */
export function randomStreamId(
  bytes: Uint8Array,
  fillRandom: (bytes: Uint8Array) => void,
  taken: (id: Int64) => boolean,
  live: number,
): Int64 {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
    fillRandom(bytes);
    const high = view.getUint32(0) & 0x7fff_ffff;
    const value = high * TWO_POW_32 + view.getUint32(4);
    const id = Number.isSafeInteger(value) ? value : view.getBigInt64(0) & INT64_MAX;
    if (id !== 0 && !taken(id)) return id;
  }
  throw new TransportError(
    `Cannot register a stream: ${MAX_ID_ATTEMPTS} random stream ids in a row were 0 or already ` +
      `in use (${live} live streams); the random source is broken`,
  );
}
