import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { canonicalInt64, readInt64, writeInt64 } from "../../../src/protocol/int64.ts";

const SEED = 0x1e64;

function bytesOf(value: number | bigint): string {
  const view = new DataView(new ArrayBuffer(8));
  writeInt64(view, 0, value);
  return Array.from(new Uint8Array(view.buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): DataView {
  const bytes = new Uint8Array(8);
  for (let i = 0; i < 8; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return new DataView(bytes.buffer);
}

describe("int64", () => {
  it("reads the canonical form: numbers when safe, bigints beyond", () => {
    const cases: [string, number | bigint][] = [
      ["0000000000000000", 0],
      ["0000000000000007", 7],
      ["ffffffffffffffff", -1],
      ["00000000ffffffff", 4294967295],
      ["0000000100000000", 4294967296],
      ["001fffffffffffff", Number.MAX_SAFE_INTEGER],
      ["ffe0000000000001", Number.MIN_SAFE_INTEGER],
      ["0020000000000000", 2n ** 53n],
      ["ffe0000000000000", -(2n ** 53n)],
      ["7fffffffffffffff", 2n ** 63n - 1n],
      ["8000000000000000", -(2n ** 63n)],
      ["fffffffe00000000", -8589934592],
    ];
    for (const [hex, expected] of cases) {
      const value = readInt64(fromHex(hex), 0);
      assert.equal(typeof value, typeof expected, hex);
      assert.equal(value, expected, hex);
      assert.equal(bytesOf(value), hex, `write(${value})`);
    }
  });

  it("reads at an offset inside a larger view", () => {
    const bytes = new Uint8Array(12);
    bytes.set([0, 0, 0, 0, 0, 0, 1, 2], 3);
    assert.equal(readInt64(new DataView(bytes.buffer), 3), 258);
  });

  it("writes bigints and safe numbers identically", () => {
    assert.equal(bytesOf(5n), bytesOf(5));
    assert.equal(bytesOf(-123456789012n), bytesOf(-123456789012));
    assert.equal(bytesOf(-0), "0000000000000000");
  });

  it("round-trips every int64 and always yields the canonical form", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        const view = new DataView(new ArrayBuffer(8));
        writeInt64(view, 0, value);
        const read = readInt64(view, 0);
        assert.equal(BigInt(read), value);
        assert.equal(read, canonicalInt64(value));
        assert.equal(
          typeof read,
          Number.isSafeInteger(Number(value)) && BigInt(Number(value)) === value
            ? "number"
            : "bigint",
        );
      }),
      { seed: SEED, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const view = new DataView(new ArrayBuffer(8));
        writeInt64(view, 0, value);
        assert.equal(readInt64(view, 0), value);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("rejects values that are not int64 integers, naming the value", () => {
    const view = new DataView(new ArrayBuffer(8));
    const bad: [unknown, RegExp][] = [
      [1.5, /1\.5/],
      [Number.NaN, /NaN/],
      [Number.POSITIVE_INFINITY, /Infinity/],
      [2 ** 53, /9007199254740992/],
      [-(2 ** 60), /-1152921504606846976/],
      [2n ** 63n, /9223372036854775808n/],
      [-(2n ** 63n) - 1n, /-9223372036854775809n/],
      ["7", /string/],
      [undefined, /undefined/],
    ];
    for (const [value, pattern] of bad) {
      assert.throws(
        () => writeInt64(view, 0, value as number, "RpcRequest.requestId"),
        (error: unknown) =>
          error instanceof InvalidArgumentError && error.code === "ERR_INVALID_ARGUMENT" &&
          pattern.test(error.message) && error.message.includes("RpcRequest.requestId"),
        String(value),
      );
      assert.throws(() => canonicalInt64(value as number), InvalidArgumentError, String(value));
    }
  });

  it("canonicalises bigints in the safe range to numbers", () => {
    assert.equal(canonicalInt64(5n), 5);
    assert.equal(canonicalInt64(BigInt(Number.MIN_SAFE_INTEGER)), Number.MIN_SAFE_INTEGER);
    assert.equal(canonicalInt64(2n ** 53n), 2n ** 53n);
    assert.equal(canonicalInt64(42), 42);
  });
});
