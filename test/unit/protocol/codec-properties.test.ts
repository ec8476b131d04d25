/** Property tests: encode → split anywhere → decode is the identity, for all 13 message types. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage, frameLength, INLINE_BODY_MAX } from "../../../src/protocol/encoder.ts";
import { MessageType } from "../../../src/protocol/messages.ts";
import { readUtf8, utf8ByteLength } from "../../../src/protocol/utf8.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";
import {
  anyStringArb,
  FUZZ_SEED,
  type WireMessage,
  wireMessageArb,
} from "./message-arbitraries.ts";

console.log(`codec properties: fast-check seed ${FUZZ_SEED} (FERRY_FUZZ_SEED overrides)`);

function toWire(items: readonly WireMessage[]): Uint8Array {
  return concatBytes(
    items.flatMap((
      item,
    ) => [...encodeMessage(item.message), ...(item.stream ? [item.stream] : [])]),
  );
}

function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    // Copies, as a socket would deliver fresh chunks.
    if (point > start) pieces.push(bytes.slice(start, point));
    start = Math.max(start, point);
  }
  return pieces;
}

describe("codec properties", () => {
  it("random messages of all 13 types, split at random points, decode to the same messages", () => {
    const typesSeen = new Set<number>();
    fc.assert(
      fc.property(
        fc.array(wireMessageArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (items, cuts) => {
          for (const item of items) typesSeen.add(item.message.type);
          const recorder = new FrameRecorder();
          const decoder = new FrameDecoder(recorder);
          for (const piece of split(toWire(items), cuts)) decoder.push(piece);
          assert.equal(decoder.state, "frame-length");
          assert.deepStrictEqual(recorder.frames, items);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 1500 },
    );
    assert.deepEqual([...typesSeen].sort((a, b) => a - b), Object.values(MessageType));
  });

  it("a message decodes identically fed one byte at a time", () => {
    fc.assert(
      fc.property(wireMessageArb.filter((item) => frameLength(item.message) < 2000), (item) => {
        const recorder = new FrameRecorder();
        const decoder = new FrameDecoder(recorder);
        for (const byte of toWire([item])) decoder.push(Uint8Array.of(byte));
        assert.deepStrictEqual(recorder.frames, [item]);
      }),
      { seed: FUZZ_SEED, numRuns: 300 },
    );
  });

  it("frameLength matches the encoding, and only bodies above INLINE_BODY_MAX are separate", () => {
    fc.assert(
      fc.property(wireMessageArb, ({ message }) => {
        const chunks = encodeMessage(message);
        const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
        assert.equal(total, frameLength(message));
        const view = new DataView(chunks[0]!.buffer, chunks[0]!.byteOffset);
        assert.equal(view.getBigInt64(0), BigInt(total));
        const big = ("body" in message && message.body.length > INLINE_BODY_MAX) ||
          ("meta" in message && message.meta.length > INLINE_BODY_MAX);
        assert.equal(chunks.length > 1, big);
      }),
      { seed: FUZZ_SEED, numRuns: 1000 },
    );
  });

  it("utf8ByteLength agrees with TextEncoder for any string", () => {
    fc.assert(
      fc.property(anyStringArb, (text) => {
        assert.equal(utf8ByteLength(text), new TextEncoder().encode(text).length);
      }),
      { seed: FUZZ_SEED, numRuns: 2000 },
    );
  });

  it("readUtf8 agrees with a replacing, BOM-keeping TextDecoder for any bytes", () => {
    const reference = new TextDecoder("utf-8", { ignoreBOM: true });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.uint8Array({ maxLength: 70, max: 0x7f }),
        ),
        fc.nat(),
        (bytes, start) => {
          const offset = start % (bytes.length + 1);
          const length = bytes.length - offset;
          assert.equal(
            readUtf8(bytes, offset, length),
            reference.decode(bytes.subarray(offset)),
          );
        },
      ),
      { seed: FUZZ_SEED, numRuns: 2000 },
    );
  });
});
