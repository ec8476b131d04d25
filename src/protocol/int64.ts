/**
 * Signed 64-bit integers on the wire (big-endian), in Ferry's canonical {@linkcode Int64} form: a
 * `number` when the value is a safe integer, a `bigint` otherwise.
 *
 * The hot path never touches BigInt: ids Ferry generates and most peers' ids are small enough, and
 * reading two uint32 halves and combining them is a couple of arithmetic operations. A `bigint` is
 * only built (and only accepted in a `number`'s place) when the value is beyond ±(2^53 − 1), where
 * a `number` could not hold it exactly.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Int64 } from "./messages.ts";

const TWO_POW_32 = 4_294_967_296;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MIN_BIG = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads the big-endian int64 at `offset` in canonical form. Two equal wire values always produce
 * `===` results (usable as the same Map key).
 *
 * @example
 * ```ts
 * import { readInt64, writeInt64 } from "ferry-transport/protocol";
 *
 * const view = new DataView(new ArrayBuffer(8));
 * writeInt64(view, 0, 2n ** 60n);
 * console.log(readInt64(view, 0)); // 1152921504606846976n
 * ```
 */
export function readInt64(view: DataView, offset: number): Int64 {
  const hi = view.getInt32(offset);
  const lo = view.getUint32(offset + 4);
  // Exact whenever |hi| < 2^21, i.e. whenever the result is a safe integer; for any other hi the
  // (possibly rounded) result is outside the safe range, so the check below routes it to BigInt.
  const value = hi * TWO_POW_32 + lo;
  if (Number.isSafeInteger(value)) return value;
  return view.getBigInt64(offset);
}

/**
 * Writes `value` as a big-endian int64 at `offset`.
 *
 * Accepts a safe-integer `number` or a `bigint` in [−2^63, 2^63 − 1]. A `number` beyond the safe
 * range is rejected rather than written: it has already lost precision, so the id on the wire would
 * silently differ from the one the caller meant (pass a `bigint` for such values).
 *
 * @param what names the value in the error message (e.g. `"RpcRequest.requestId"`).
 * @throws InvalidArgumentError when the value is not an integer or does not fit.
 *
 * @example
 * ```ts
 * import { readInt64, writeInt64 } from "ferry-transport/protocol";
 *
 * const view = new DataView(new ArrayBuffer(8));
 * writeInt64(view, 0, 42);
 * console.log(readInt64(view, 0)); // 42
 * ```
 */
export function writeInt64(
  view: DataView,
  offset: number,
  value: Int64,
  what = "int64 value",
): void {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(
        `Cannot encode ${what}: expected an integer number within ±(2^53 − 1) or a bigint ` +
          `within the signed int64 range, got ${describeNumber(value)}`,
      );
    }
    const hi = Math.floor(value / TWO_POW_32);
    view.setInt32(offset, hi);
    view.setUint32(offset + 4, value - hi * TWO_POW_32);
    return;
  }
  if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new InvalidArgumentError(
        `Cannot encode ${what}: ${value}n is outside the signed int64 range ` +
          `[-9223372036854775808, 9223372036854775807]`,
      );
    }
    view.setBigInt64(offset, value);
    return;
  }
  throw new InvalidArgumentError(
    `Cannot encode ${what}: expected a number or bigint, got ${typeof value}`,
  );
}

/**
 * The canonical form of an int64 a caller passed (e.g. `5n` → `5`), so it compares `===` with what
 * the decoder produces for the same wire value. Validates like {@linkcode writeInt64}.
 *
 * @example
 * ```ts
 * import { canonicalInt64 } from "ferry-transport/protocol";
 *
 * console.log(canonicalInt64(42n), canonicalInt64(2n ** 60n)); // 42 1152921504606846976n
 * ```
 */
export function canonicalInt64(value: Int64, what = "int64 value"): Int64 {
  if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new InvalidArgumentError(
        `Invalid ${what}: ${value}n is outside the signed int64 range`,
      );
    }
    return value >= SAFE_MIN_BIG && value <= SAFE_MAX_BIG ? Number(value) : value;
  }
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  throw new InvalidArgumentError(
    `Invalid ${what}: expected an integer number within ±(2^53 − 1) or a bigint, got ` +
      (typeof value === "number" ? describeNumber(value) : typeof value),
  );
}

function describeNumber(value: number): string {
  if (Object.is(value, -0)) return "-0";
  // Show an unsafe integer exactly: String(2 ** 60) prints a rounded decimal.
  if (Number.isInteger(value)) return `${value} (exactly ${BigInt(value)})`;
  return String(value);
}
