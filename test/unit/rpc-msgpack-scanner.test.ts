/**
 * The typed-service msgpack scanner (`src/rpc/msgpack-scanner.ts`): every value the rpc codec
 * encodes within the limits is accepted; truncated, trailing, malformed and over-limit bytes are
 * refused with a PayloadError or a LimitError naming the limit (nothing else is ever thrown); the
 * container-header bombs of issue 15 are refused before msgpackr builds anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LimitError, PayloadError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import { decodePayload, encodePayload } from "../../src/rpc/rpc-codec.ts";
import {
  DEFAULT_SERVICE_DECODE_LIMITS,
  resolveServiceDecodeLimits,
  scanMsgpack,
  type ServiceDecodeLimits,
} from "../../src/rpc/msgpack-scanner.ts";

const limits = DEFAULT_SERVICE_DECODE_LIMITS;

/** Values the rpc codec carries (its module table): what a caller may send. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ minLength: 200, maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.date({ noInvalidDate: true }),
  ),
  node: fc.oneof(
    { depthSize: "small" },
    tie("leaf"),
    fc.array(tie("node"), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie("node"), { maxKeys: 20 }),
  ),
})).node;

function scanError(bytes: Uint8Array, over: ServiceDecodeLimits = limits): unknown {
  try {
    scanMsgpack(bytes, over, "a test value");
    return undefined;
  } catch (error) {
    return error;
  }
}

function header(type: number, count: number): Uint8Array {
  const bytes = new Uint8Array(5);
  bytes[0] = type;
  new DataView(bytes.buffer).setUint32(1, count);
  return bytes;
}

/** `pattern` repeated to fill `size` bytes (doubling copies: fast under every runtime). */
function repeated(pattern: Uint8Array, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(pattern.subarray(0, size));
  for (let filled = pattern.byteLength; filled < size; filled *= 2) {
    bytes.copyWithin(filled, 0, Math.min(filled, size - filled));
  }
  return bytes;
}

test("every value the codec encodes within the limits is accepted, and msgpackr decodes it", () => {
  fc.assert(
    fc.property(value, (v) => {
      const bytes = encodePayload(v, "a test value");
      assert.equal(scanError(bytes), undefined);
      decodePayload(bytes, "a test value");
    }),
    { numRuns: 400 },
  );
});

test("truncated bytes are a PayloadError, never anything else", () => {
  fc.assert(
    fc.property(value, fc.nat(), (v, at) => {
      const bytes = encodePayload(v, "a test value");
      const cut = bytes.subarray(0, at % bytes.byteLength);
      const error = scanError(cut);
      assert.ok(error instanceof PayloadError, `cut at ${cut.byteLength}: ${error}`);
      assert.match((error as Error).message, /Cannot decode a test value/);
    }),
    { numRuns: 400 },
  );
});

test("bytes after the value, and corrupted bytes, are typed errors or accepted: nothing else", () => {
  fc.assert(
    fc.property(value, fc.uint8Array({ minLength: 1, maxLength: 8 }), (v, extra) => {
      const bytes = encodePayload(v, "a test value");
      const longer = new Uint8Array(bytes.byteLength + extra.byteLength);
      longer.set(bytes);
      longer.set(extra, bytes.byteLength);
      const error = scanError(longer);
      assert.ok(error instanceof PayloadError, String(error));
      assert.match((error as Error).message, /bytes follow the value/);
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(value, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
      const bytes = encodePayload(v, "a test value").slice();
      bytes[at % bytes.byteLength] = byte;
      const error = scanError(bytes);
      if (error !== undefined) {
        assert.ok(error instanceof PayloadError || error instanceof LimitError, String(error));
        return;
      }
      // Accepted by the scanner: msgpackr's failures are still only PayloadErrors.
      try {
        decodePayload(bytes, "a test value");
      } catch (decodeError) {
        assert.ok(decodeError instanceof PayloadError, String(decodeError));
      }
    }),
    { numRuns: 400 },
  );
});

test("random bytes never throw anything but the typed errors", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const error = scanError(bytes);
      assert.ok(
        error === undefined || error instanceof PayloadError || error instanceof LimitError,
        String(error),
      );
    }),
    { numRuns: 2_000 },
  );
});

test("array32 headers nesting: refused at the first header, in microseconds", () => {
  // 16 MiB of `dd ff ff ff ff`: each header announces 4 294 967 295 items.
  const size = 16 * 1024 * 1024;
  const bomb = repeated(header(0xdd, 0xffff_ffff), size);
  const started = performance.now();
  const error = scanError(bomb);
  const ms = performance.now() - started;
  console.log(`array32 nesting bomb (16 MiB): refused in ${ms.toFixed(2)} ms: ${error}`);
  assert.ok(error instanceof LimitError);
  assert.match(error.message, /maxServiceElements \(262144\)/);
  // Headers announcing what the bytes cannot hold, within the element limit: malformed.
  const small = new Uint8Array(4 * 5);
  for (let i = 0; i < 4; i++) small.set(header(0xdd, 100), i * 5);
  const truncated = scanError(small);
  assert.ok(truncated instanceof PayloadError);
  assert.match(truncated.message, /does not fit/);
  // Nesting one item each: the depth limit.
  const deep = new Uint8Array(200).fill(0x91);
  const tooDeep = scanError(deep);
  assert.ok(tooDeep instanceof LimitError);
  assert.match(tooDeep.message, /maxServiceDepth \(64\)/);
});

test("a flat map of millions of tiny entries is refused by its header", () => {
  // map32 of 10 M entries `00 00` (63 MiB would be 33 M): the header alone exceeds the limit.
  const entries = 10_000_000;
  const bomb = new Uint8Array(5 + entries * 2);
  bomb.set(header(0xdf, entries));
  const started = performance.now();
  const error = scanError(bomb);
  console.log(
    `flat map bomb (${(bomb.byteLength / 2 ** 20).toFixed(0)} MiB): refused in ` +
      `${(performance.now() - started).toFixed(2)} ms`,
  );
  assert.ok(error instanceof LimitError);
  assert.match(error.message, /maxServiceElements/);
  // Many small maps adding up past the limit are refused as the count crosses it.
  const maps = new Uint8Array(5 + 200_000 * 3);
  maps.set(header(0xdd, 200_000));
  for (let i = 0; i < 200_000; i++) maps.set([0x81, 0x00, 0xc0], 5 + i * 3);
  const many = scanError(maps);
  assert.ok(many instanceof LimitError);
  assert.match(many.message, /over maxServiceElements \(262144\)/);
});

test("strings and binary values over their limits, and unknown extensions, are refused", () => {
  const tight = resolveServiceDecodeLimits(
    { maxServiceStringBytes: 10, maxServiceBinaryBytes: 20, maxServiceElements: 5 },
    "test",
  );
  assert.equal(scanError(encodePayload("0123456789", "s"), tight), undefined);
  const longString = scanError(encodePayload("0123456789a", "s"), tight);
  assert.ok(longString instanceof LimitError);
  assert.match(longString.message, /string of 11 bytes .* maxServiceStringBytes \(10\)/);
  const longBinary = scanError(encodePayload(new Uint8Array(21), "b"), tight);
  assert.ok(longBinary instanceof LimitError);
  assert.match(longBinary.message, /binary value of 21 bytes .* maxServiceBinaryBytes \(20\)/);
  assert.equal(scanError(encodePayload([1, 2, 3, 4], "a"), tight), undefined);
  assert.ok(scanError(encodePayload([1, 2, 3, 4, 5], "a"), tight) instanceof LimitError);
  // A str32 announcing 4 GiB in a few bytes: a limit at the default, malformed above it.
  const str32 = Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x41);
  assert.ok(scanError(str32) instanceof LimitError);
  const lax = resolveServiceDecodeLimits({ maxServiceStringBytes: 2 ** 40 }, "test");
  assert.ok(scanError(str32, lax) instanceof PayloadError);
  // msgpackr would build a Set (0x73), a record (0x72) or undefined (0) from these.
  for (const bytes of [[0xd4, 0x73, 0x90], [0xd4, 0x72, 0x00], [0xd4, 0x00, 0x00], [0xc1]]) {
    const error = scanError(Uint8Array.from(bytes));
    assert.ok(error instanceof PayloadError, `${bytes}: ${error}`);
  }
  // str32 and bin32 within the limits.
  assert.equal(
    scanError(encodePayload(["x".repeat(70_000), new Uint8Array(70_000)], "l")),
    undefined,
  );
  // Timestamps (the codec's Date) are the one extension accepted.
  assert.equal(scanError(encodePayload(new Date(1_700_000_000_123), "d")), undefined);
  assert.throws(
    () => resolveServiceDecodeLimits({ maxServiceDepth: 0 }, "ServiceRouterOptions"),
    /ServiceRouterOptions\.maxServiceDepth: expected an integer ≥ 1, got 0/,
  );
  assert.equal(limits.maxServiceElements, defaultLimits.maxServiceElements);
});
