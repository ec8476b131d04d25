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

import { LimitError, PayloadError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { positiveInteger } from "../options.ts";

/** The limits a typed-service message is scanned against (defaults in `src/limits.ts`). */
export interface ServiceDecodeLimits {
  readonly maxServiceElements: number;
  readonly maxServiceDepth: number;
  readonly maxServiceStringBytes: number;
  readonly maxServiceBinaryBytes: number;
}

/**
 * `src/limits.ts`'s decode limits.
 *
 * @example
 * ```ts
 * import { DEFAULT_SERVICE_DECODE_LIMITS } from "ferry-transport/rpc";
 *
 * console.log(DEFAULT_SERVICE_DECODE_LIMITS.maxServiceDepth);
 * ```
 */
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
 *
 * @example
 * ```ts
 * import { DEFAULT_SERVICE_DECODE_LIMITS, encodePayload, scanMsgpack } from "ferry-transport/rpc";
 *
 * // Throws (LimitError, PayloadError) when the bytes are over a limit or not one msgpack value.
 * scanMsgpack(encodePayload({ ok: true }, "a flag"), DEFAULT_SERVICE_DECODE_LIMITS, "a flag");
 * ```
 */
export function scanMsgpack(
  bytes: Uint8Array,
  limits: ServiceDecodeLimits,
  what: string,
): void {
  new Scan(bytes, limits, what).run();
}

/**
 * One scan's state. A class rather than closures: the scan runs on every typed call, and closures
 * made per call cost more than the scan itself.
 */
class Scan {
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly limits: ServiceDecodeLimits;
  readonly what: string;
  /** Values still to read in each enclosing container; `left` is the innermost one's. */
  readonly stack: number[] = [];
  left = 1;
  elements = 1;
  p = 0;

  constructor(bytes: Uint8Array, limits: ServiceDecodeLimits, what: string) {
    this.bytes = bytes;
    this.end = bytes.byteLength;
    this.limits = limits;
    this.what = what;
  }

  run(): void {
    const bytes = this.bytes;
    for (;;) {
      if (this.left === 0) {
        if (this.stack.length === 0) break;
        this.left = this.stack.pop()!;
        continue;
      }
      this.left--;
      if (this.p >= this.end) throw this.malformed("the bytes end inside a value");
      const b = bytes[this.p++]!;
      if (b <= 0x7f || b >= 0xe0) continue; // positive / negative fixint
      if (b <= 0x8f) {
        this.open(b & 0x0f, 2);
        continue;
      }
      if (b <= 0x9f) {
        this.open(b & 0x0f, 1);
        continue;
      }
      if (b <= 0xbf) {
        this.text(b & 0x1f);
        continue;
      }
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          break;
        case 0xc4:
          this.binary(this.lengthOf(1));
          break;
        case 0xc5:
          this.binary(this.lengthOf(2));
          break;
        case 0xc6:
          this.binary(this.lengthOf(4));
          break;
        case 0xc7:
          this.extension(this.lengthOf(1));
          break;
        case 0xc8:
          this.extension(this.lengthOf(2));
          break;
        case 0xc9:
          this.extension(this.lengthOf(4));
          break;
        case 0xcc: // uint8
        case 0xd0: // int8
          this.skip(1);
          break;
        case 0xcd: // uint16
        case 0xd1: // int16
          this.skip(2);
          break;
        case 0xca: // float32
        case 0xce: // uint32
        case 0xd2: // int32
          this.skip(4);
          break;
        case 0xcb: // float64
        case 0xcf: // uint64
        case 0xd3: // int64
          this.skip(8);
          break;
        case 0xd4:
          this.extension(1);
          break;
        case 0xd5:
          this.extension(2);
          break;
        case 0xd6:
          this.extension(4);
          break;
        case 0xd7:
          this.extension(8);
          break;
        case 0xd8:
          this.extension(16);
          break;
        case 0xd9:
          this.text(this.lengthOf(1));
          break;
        case 0xda:
          this.text(this.lengthOf(2));
          break;
        case 0xdb:
          this.text(this.lengthOf(4));
          break;
        case 0xdc:
          this.open(this.lengthOf(2), 1);
          break;
        case 0xdd:
          this.open(this.lengthOf(4), 1);
          break;
        case 0xde:
          this.open(this.lengthOf(2), 2);
          break;
        case 0xdf:
          this.open(this.lengthOf(4), 2);
          break;
        default: // 0xc1: never used
          this.p--;
          throw this.malformed(`0x${b.toString(16)} is not a MessagePack type`);
      }
    }
    if (this.p !== this.end) throw this.malformed(`${this.end - this.p} bytes follow the value`);
  }

  malformed(why: string): PayloadError {
    return new PayloadError(
      `Cannot decode ${this.what} (${this.end} bytes): ${why} at byte ${this.p}`,
    );
  }

  /** Reads a big-endian length of `size` bytes. */
  lengthOf(size: number): number {
    if (this.p + size > this.end) throw this.malformed(`a ${size}-byte length runs past the end`);
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + this.bytes[this.p + i]!;
    this.p += size;
    return n;
  }

  skip(size: number): void {
    if (size > this.end - this.p) {
      throw this.malformed(
        `a value of ${size} bytes does not fit in the ${this.end - this.p} bytes left`,
      );
    }
    this.p += size;
  }

  text(size: number): void {
    const max = this.limits.maxServiceStringBytes;
    if (size > max) {
      throw new LimitError(
        `Cannot decode ${this.what}: a string of ${size} bytes at byte ${this.p} exceeds ` +
          `maxServiceStringBytes (${max})`,
      );
    }
    this.skip(size);
  }

  binary(size: number): void {
    const max = this.limits.maxServiceBinaryBytes;
    if (size > max) {
      throw new LimitError(
        `Cannot decode ${this.what}: a binary value of ${size} bytes at byte ${this.p} exceeds ` +
          `maxServiceBinaryBytes (${max})`,
      );
    }
    this.skip(size);
  }

  extension(size: number): void {
    if (this.p >= this.end) throw this.malformed("an extension's type runs past the end");
    const type = this.bytes[this.p]!;
    if (type !== TIMESTAMP_TYPE || (size !== 4 && size !== 8 && size !== 12)) {
      throw this.malformed(
        `extension type ${type > 127 ? type - 256 : type} of ${size} bytes is not one typed ` +
          `services use (only timestamps, type -1)`,
      );
    }
    this.p++;
    this.skip(size);
  }

  /** A container of `count` entries of `itemValues` values each (1 for arrays, 2 for maps). */
  open(count: number, itemValues: number): void {
    const { maxServiceDepth, maxServiceElements } = this.limits;
    if (this.stack.length >= maxServiceDepth) {
      throw new LimitError(
        `Cannot decode ${this.what}: arrays and maps nest deeper than maxServiceDepth ` +
          `(${maxServiceDepth}) at byte ${this.p}`,
      );
    }
    const values = count * itemValues;
    this.elements += values;
    if (this.elements > maxServiceElements) {
      throw new LimitError(
        `Cannot decode ${this.what}: a container of ${count} entries at byte ${this.p} brings it ` +
          `to ${this.elements} values, over maxServiceElements (${maxServiceElements})`,
      );
    }
    if (values > this.end - this.p) {
      throw this.malformed(
        `a container of ${count} entries does not fit in the ${this.end - this.p} bytes left`,
      );
    }
    if (values === 0) return;
    this.stack.push(this.left);
    this.left = values;
  }
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
