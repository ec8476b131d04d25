/**
 * fast-check arbitraries for every protocol message, plus the raw bytes that follow streaming
 * messages, and the seed/case-count settings the property tests share.
 */

import process from "node:process";
import fc from "fast-check";
import { canonicalInt64 } from "../../../src/protocol/int64.ts";
import { type Int64, type Message, MessageType } from "../../../src/protocol/messages.ts";

const T = MessageType;

/** Fixed seed for every property test; override with FERRY_FUZZ_SEED to explore. */
export const FUZZ_SEED: number = readIntEnv("FERRY_FUZZ_SEED", 20_261_123);

/** Total fuzz cases across the fuzz properties (CI needs ≥ 100 000); FERRY_FUZZ_CASES overrides. */
export const FUZZ_CASES: number = readIntEnv("FERRY_FUZZ_CASES", 100_000);

function readIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Int64 ids in canonical form: mostly safe numbers, sometimes full-range bigints. */
export const int64Arb: fc.Arbitrary<Int64> = fc.oneof(
  { weight: 3, arbitrary: fc.maxSafeInteger() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 32, -(2 ** 32), Number.MAX_SAFE_INTEGER) },
  {
    weight: 2,
    arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => canonicalInt64(v)),
  },
);

const int32Arb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

/**
 * Any JS string, lone surrogates included (they travel as U+FFFD, see `wireString`). Built from
 * code-point units rather than `fc.string({ unit: "binary" })`, whose construction alone takes
 * seconds (it builds a reverse map of every code point).
 */
export const anyStringArb: fc.Arbitrary<string> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    },
  ),
  { maxLength: 12 },
).map((units) => units.join(""));

const stringArb = fc.oneof(anyStringArb, fc.string({ maxLength: 80 }));

/** Mostly small bodies; occasionally one above INLINE_BODY_MAX so pass-through is exercised. */
const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 20, arbitrary: fc.uint8Array({ maxLength: 48 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 16_000, max: 20_000 }), fc.integer({ min: 0, max: 255 }))
      .map(([length, seed]) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff)),
  },
);

/** The string a peer decodes from our encoding of `text` (lone surrogates become U+FFFD). */
export function wireString(text: string): string {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(new TextEncoder().encode(text));
}

/** A message and, for StreamResponse / UploadStream, the raw bytes sent after it. */
export interface WireMessage {
  readonly message: Message;
  readonly stream?: Uint8Array;
}

const streamBytesArb = fc.uint8Array({ maxLength: 300 });

function plain<M extends Message>(arbitrary: fc.Arbitrary<M>): fc.Arbitrary<WireMessage> {
  // fc.record builds null-prototype objects; the decoder builds plain ones (deepStrictEqual cares).
  return arbitrary.map((message) => ({ message: { ...message } }));
}

/** Every one of the 13 message types, with strings already in their wire form. */
export const wireMessageArb: fc.Arbitrary<WireMessage> = fc.oneof(
  plain(
    fc.record({ type: fc.constant(T.ChunkFetchRequest), streamId: int64Arb, chunkIndex: int32Arb }),
  ),
  plain(fc.record({
    type: fc.constant(T.ChunkFetchSuccess),
    streamId: int64Arb,
    chunkIndex: int32Arb,
    body: bytesArb,
  })),
  plain(fc.record({
    type: fc.constant(T.ChunkFetchFailure),
    streamId: int64Arb,
    chunkIndex: int32Arb,
    error: stringArb.map(wireString),
  })),
  plain(fc.record({ type: fc.constant(T.RpcRequest), requestId: int64Arb, body: bytesArb })),
  plain(fc.record({ type: fc.constant(T.RpcResponse), requestId: int64Arb, body: bytesArb })),
  plain(fc.record({
    type: fc.constant(T.RpcFailure),
    requestId: int64Arb,
    error: stringArb.map(wireString),
  })),
  plain(fc.record({ type: fc.constant(T.StreamRequest), streamId: stringArb.map(wireString) })),
  fc.tuple(stringArb.map(wireString), streamBytesArb).map(([streamId, stream]) => ({
    message: { type: T.StreamResponse, streamId, byteCount: stream.length },
    stream,
  })),
  plain(fc.record({
    type: fc.constant(T.StreamFailure),
    streamId: stringArb.map(wireString),
    error: stringArb.map(wireString),
  })),
  plain(fc.record({ type: fc.constant(T.OneWayMessage), body: bytesArb })),
  fc.tuple(int64Arb, bytesArb, streamBytesArb).map(([requestId, meta, stream]) => ({
    message: { type: T.UploadStream, requestId, meta, bodyByteCount: stream.length },
    stream,
  })),
  plain(fc.record({
    type: fc.constant(T.MergedBlockMetaRequest),
    requestId: int64Arb,
    appId: stringArb.map(wireString),
    shuffleId: int32Arb,
    shuffleMergeId: int32Arb,
    reduceId: int32Arb,
  })),
  plain(fc.record({
    type: fc.constant(T.MergedBlockMetaSuccess),
    requestId: int64Arb,
    numChunks: int32Arb,
    body: bytesArb,
  })),
);

/** A small, fast, seedable PRNG (mulberry32) for loops too hot for fast-check's machinery. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
