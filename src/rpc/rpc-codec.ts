/**
 * The one msgpack configuration typed services use. Every request and reply body is encoded and
 * decoded here, with a `Packr` this module owns and explicit options — nothing is registered on
 * msgpackr's globals, so other msgpackr users in the same program are unaffected.
 *
 * What travels, and what comes back:
 *
 * | JavaScript | msgpack | decoded as |
 * |---|---|---|
 * | `null`, `undefined` | nil | `null` |
 * | boolean, string | bool, str | the same |
 * | number | int (safe integers ≤ 32 bits) or float64 | number |
 * | bigint (int64 / uint64 range) | int64 / uint64 | bigint — every 64-bit integer decodes as bigint |
 * | `Uint8Array` | bin (no base64) | `Uint8Array` (under Node and Deno, a `Buffer` view of the body) |
 * | array | array | array |
 * | plain object | map with string keys | plain object |
 *
 * Records, structured cloning and msgpackr's extra types are off, so the bytes are plain
 * MessagePack any implementation reads. Functions and bigints beyond 64 bits refuse to encode.
 *
 * @module
 */

import { type Options, Packr } from "msgpackr";
import { describeError, PayloadError } from "../errors.ts";
import { DETAIL_CHARS, excerpt } from "../excerpt.ts";
import {
  DEFAULT_SERVICE_DECODE_LIMITS,
  scanMsgpack,
  type ServiceDecodeLimits,
} from "./msgpack-scanner.ts";

/** The options of the rpc layer's `Packr` — the single place they are chosen. */
export const RPC_PACKR_OPTIONS: Readonly<Options> = Object.freeze({
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  sequential: false,
  variableMapSize: true,
  copyBuffers: false,
  encodeUndefinedAsNil: true,
  largeBigIntToFloat: false,
  largeBigIntToString: false,
  useBigIntExtension: false,
  int64AsType: "bigint",
  writeFunction: (): never => {
    throw new TypeError("a function cannot be sent");
  },
});

const packr = new Packr({ ...RPC_PACKR_OPTIONS });

/**
 * Encodes `value` as MessagePack. @throws PayloadError naming `what` when it cannot be encoded.
 *
 * @example
 * ```ts
 * import { decodePayload, encodePayload } from "ferry-transport/rpc";
 *
 * const bytes = encodePayload({ id: 2n ** 60n, data: new Uint8Array([1, 2]) }, "a note");
 * console.log(decodePayload(bytes, "a note")); // { id: 1152921504606846976n, data: Uint8Array(2) }
 * ```
 */
export function encodePayload(value: unknown, what: string): Uint8Array {
  try {
    return packr.pack(value);
  } catch (error) {
    throw new PayloadError(`Cannot encode ${what}: ${describeError(error)}`, { cause: error });
  }
}

/**
 * Decodes one MessagePack value that must fill `bytes` exactly. The bytes are first scanned
 * against `limits` (see `msgpack-scanner.ts`), so msgpackr only ever builds a value whose size,
 * depth and strings are within them.
 * @throws LimitError naming the limit a value exceeds; PayloadError naming `what` for truncated,
 * trailing or malformed bytes.
 *
 * @example
 * ```ts
 * import {
 *   decodePayload,
 *   DEFAULT_SERVICE_DECODE_LIMITS,
 *   encodePayload,
 * } from "ferry-transport/rpc";
 *
 * const bytes = encodePayload(["a", "b", "c"], "letters");
 * // Limits are checked on the bytes before anything is decoded.
 * const limits = { ...DEFAULT_SERVICE_DECODE_LIMITS, maxServiceElements: 2 };
 * try {
 *   decodePayload(bytes, "letters", limits);
 * } catch (error) {
 *   console.log(error); // LimitError: 3 elements are over maxServiceElements (2)
 * }
 * ```
 */
export function decodePayload(
  bytes: Uint8Array,
  what: string,
  limits: ServiceDecodeLimits = DEFAULT_SERVICE_DECODE_LIMITS,
): unknown {
  scanMsgpack(bytes, limits, what);
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    throw new PayloadError(
      `Cannot decode ${what} (${bytes.byteLength} bytes): ${
        excerpt(describeError(error), DETAIL_CHARS)
      }`,
      { cause: error },
    );
  }
  return value;
}
