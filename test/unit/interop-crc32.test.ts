import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { crc32 } from "../../src/checksum/crc32.ts";

/** The textbook bit-at-a-time CRC-32, independent of the table-driven implementation. */
function referenceCrc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("crc32", () => {
  it("matches the standard check values", () => {
    const ascii = (text: string) => new TextEncoder().encode(text);
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(ascii("123456789")), 0xcbf43926);
    assert.equal(crc32(ascii("The quick brown fox jumps over the lazy dog")), 0x414fa339);
    assert.equal(crc32(new Uint8Array(32)), 0x190a55ad);
    assert.equal(crc32(new Uint8Array(32).fill(0xff)), 0xff6cab0b);
  });

  it("equals the bitwise reference for any bytes, any split, any offset view", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.nat(7),
        (data, splitSeed, offset) => {
          const expected = referenceCrc32(data);
          assert.equal(crc32(data), expected);
          const split = data.length === 0 ? 0 : splitSeed % (data.length + 1);
          assert.equal(crc32(data.subarray(split), crc32(data.subarray(0, split))), expected);
          // A view at an unaligned offset into a larger buffer.
          const host = new Uint8Array(data.length + offset);
          host.set(data, offset);
          assert.equal(crc32(host.subarray(offset)), expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("returns an unsigned value whose hex form has no sign and no leading zeros", () => {
    const value = crc32(new Uint8Array([0x80]));
    assert.ok(value >= 0 && value <= 0xffffffff);
    assert.match(value.toString(16), /^[1-9a-f][0-9a-f]*$/);
  });
});
