/**
 * A MessagePack structure scanner: one pass over the headers of a message, building nothing, that
 * proves the message is one complete value within {@linkcode ServiceDecodeLimits} before msgpackr
 * decodes it. Without it, a 63 MiB body made of array32 / map32 headers each announcing millions
 * of entries makes msgpackr allocate gigabytes and block the event loop for minutes before it
 * notices the bytes run out.
 *
 * What it checks, in the order the bytes come:
 * - every container's declared size against the bytes left (an item needs at least one byte, a
 *   map entry two) and against `maxServiceElements` (counted when declared, so a header
 *   announcing too many is refused before any of its items is looked at);
 * - nesting against `maxServiceDepth`;
 * - each string and binary length against the bytes left and `maxServiceStringBytes` /
 *   `maxServiceBinaryBytes` (their contents are skipped, not read);
 * - extensions: only the timestamp (type −1, 4, 8 or 12 bytes), the one the rpc codec sends
 *   (`Date`); msgpackr would otherwise build records, sets, errors, regexps and typed arrays from
 *   peer bytes. 0xc1 (never used) is refused;
 * - the value ends exactly at the end of the bytes.
 *
 * Work is linear in the number of values (at most `maxServiceElements`), not in the bytes:
 * string and binary contents are skipped. Malformed bytes are a `PayloadError`, limits a
 * `LimitError` naming the limit; nothing else is thrown.
 *
 * @module
 */

import { InvalidArgumentError, LimitError, PayloadError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";

/** The limits a typed-service message is scanned against (defaults in `src/limits.ts`). */
export interface ServiceDecodeLimits {
  readonly maxServiceElements: number;
  readonly maxServiceDepth: number;
  readonly maxServiceStringBytes: number;
  readonly maxServiceBinaryBytes: number;
}

/** `src/limits.ts`'s decode limits. */
export const DEFAULT_SERVICE_DECODE_LIMITS: ServiceDecodeLimits = Object.freeze({
  maxServiceElements: defaultLimits.maxServiceElements,
  maxServiceDepth: defaultLimits.maxServiceDepth,
  maxServiceStringBytes: defaultLimits.maxServiceStringBytes,
  maxServiceBinaryBytes: defaultLimits.maxServiceBinaryBytes,
});

const TIMESTAMP_TYPE = 0xff;

/**
 * Checks that `bytes` hold exactly one MessagePack value within `limits`; builds nothing.
 * @throws LimitError naming the limit a value exceeds; PayloadError for malformed or truncated
 * bytes (`what` names the message in both).
 */
export function scanMsgpack(
  bytes: Uint8Array,
  limits: ServiceDecodeLimits,
  what: string,
): void {
  const end = bytes.byteLength;
  const { maxServiceElements, maxServiceDepth } = limits;
  // Values still to read in each open container; `left` is the innermost one's.
  const stack: number[] = [];
  let left = 1;
  let elements = 1;
  let p = 0;

  const malformed = (why: string): PayloadError =>
    new PayloadError(`Cannot decode ${what} (${end} bytes): ${why} at byte ${p}`);
  const lengthOf = (size: number): number => {
    if (p + size > end) throw malformed(`a ${size}-byte length runs past the end`);
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + bytes[p + i]!;
    p += size;
    return n;
  };
  const skip = (size: number): void => {
    if (size > end - p) {
      throw malformed(`a value of ${size} bytes does not fit in the ${end - p} bytes left`);
    }
    p += size;
  };
  const text = (size: number): void => {
    if (size > limits.maxServiceStringBytes) {
      throw new LimitError(
        `Cannot decode ${what}: a string of ${size} bytes at byte ${p} exceeds ` +
          `maxServiceStringBytes (${limits.maxServiceStringBytes})`,
      );
    }
    skip(size);
  };
  const binary = (size: number): void => {
    if (size > limits.maxServiceBinaryBytes) {
      throw new LimitError(
        `Cannot decode ${what}: a binary value of ${size} bytes at byte ${p} exceeds ` +
          `maxServiceBinaryBytes (${limits.maxServiceBinaryBytes})`,
      );
    }
    skip(size);
  };
  const extension = (size: number): void => {
    if (p >= end) throw malformed("an extension's type runs past the end");
    const type = bytes[p]!;
    if (type !== TIMESTAMP_TYPE || (size !== 4 && size !== 8 && size !== 12)) {
      throw malformed(
        `extension type ${type > 127 ? type - 256 : type} of ${size} bytes is not one typed ` +
          `services use (only timestamps, type -1)`,
      );
    }
    p++;
    skip(size);
  };
  const open = (count: number, itemBytes: number): void => {
    if (stack.length >= maxServiceDepth) {
      throw new LimitError(
        `Cannot decode ${what}: arrays and maps nest deeper than maxServiceDepth ` +
          `(${maxServiceDepth}) at byte ${p}`,
      );
    }
    const values = count * itemBytes;
    elements += values;
    if (elements > maxServiceElements) {
      throw new LimitError(
        `Cannot decode ${what}: a container of ${count} entries at byte ${p} brings it to ` +
          `${elements} values, over maxServiceElements (${maxServiceElements})`,
      );
    }
    if (values > end - p) {
      throw malformed(`a container of ${count} entries does not fit in the ${end - p} bytes left`);
    }
    if (values === 0) return;
    stack.push(left);
    left = values;
  };

  for (;;) {
    if (left === 0) {
      if (stack.length === 0) break;
      left = stack.pop()!;
      continue;
    }
    left--;
    if (p >= end) throw malformed("the bytes end inside a value");
    const b = bytes[p++]!;
    if (b <= 0x7f || b >= 0xe0) continue; // positive / negative fixint
    if (b <= 0x8f) {
      open(b & 0x0f, 2);
      continue;
    }
    if (b <= 0x9f) {
      open(b & 0x0f, 1);
      continue;
    }
    if (b <= 0xbf) {
      text(b & 0x1f);
      continue;
    }
    switch (b) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        break;
      case 0xc4:
        binary(lengthOf(1));
        break;
      case 0xc5:
        binary(lengthOf(2));
        break;
      case 0xc6:
        binary(lengthOf(4));
        break;
      case 0xc7:
        extension(lengthOf(1));
        break;
      case 0xc8:
        extension(lengthOf(2));
        break;
      case 0xc9:
        extension(lengthOf(4));
        break;
      case 0xcc: // uint8
      case 0xd0: // int8
        skip(1);
        break;
      case 0xcd: // uint16
      case 0xd1: // int16
        skip(2);
        break;
      case 0xca: // float32
      case 0xce: // uint32
      case 0xd2: // int32
        skip(4);
        break;
      case 0xcb: // float64
      case 0xcf: // uint64
      case 0xd3: // int64
        skip(8);
        break;
      case 0xd4:
        extension(1);
        break;
      case 0xd5:
        extension(2);
        break;
      case 0xd6:
        extension(4);
        break;
      case 0xd7:
        extension(8);
        break;
      case 0xd8:
        extension(16);
        break;
      case 0xd9:
        text(lengthOf(1));
        break;
      case 0xda:
        text(lengthOf(2));
        break;
      case 0xdb:
        text(lengthOf(4));
        break;
      case 0xdc:
        open(lengthOf(2), 1);
        break;
      case 0xdd:
        open(lengthOf(4), 1);
        break;
      case 0xde:
        open(lengthOf(2), 2);
        break;
      case 0xdf:
        open(lengthOf(4), 2);
        break;
      default: // 0xc1: never used
        p--;
        throw malformed(`0x${b.toString(16)} is not a MessagePack type`);
    }
  }
  if (p !== end) throw malformed(`${end - p} bytes follow the value`);
}

/**
 * `options`' decode limits with `src/limits.ts`'s defaults for those not given.
 * @throws InvalidArgumentError naming `owner` and the option for a value that is not an integer ≥ 1.
 */
export function resolveServiceDecodeLimits(
  options: Partial<ServiceDecodeLimits>,
  owner: string,
): ServiceDecodeLimits {
  const resolved: { -readonly [K in keyof ServiceDecodeLimits]: number } = {
    ...DEFAULT_SERVICE_DECODE_LIMITS,
  };
  for (const name of Object.keys(resolved) as (keyof ServiceDecodeLimits)[]) {
    const value = options[name];
    if (value === undefined) continue;
    resolved[name] = positiveInteger(value, `${owner}.${name}`);
  }
  return Object.freeze(resolved);
}

/** `value` when it is an integer ≥ 1. @throws InvalidArgumentError naming `what` otherwise. */
export function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `Invalid ${what}: expected an integer ≥ 1, got ${String(value)}`,
    );
  }
  return value;
}
