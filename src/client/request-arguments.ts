/**
 * Checks of the arguments `TransportClient` methods receive, so that what reaches the encoder is
 * always encodable: a bad argument fails its own call with an `InvalidArgumentError` naming the
 * value, and never touches the connection.
 *
 * @module
 */

import type { BodyData } from "../connection/body-source.ts";
import { type CallOptions, isValidTimeout } from "../deadline.ts";
import { InvalidArgumentError } from "../errors.ts";

/** Options of `uploadStream`: a deadline, and the byte count for non-`Uint8Array` data. */
export interface UploadOptions extends CallOptions {
  /**
   * Bytes the data will yield. Required for iterables and streams (the UploadStream frame announces
   * the count before the body); optional for a `Uint8Array`, where it must match if given.
   */
  readonly byteLength?: number;
}

const INT32_MAX = 0x7fff_ffff;
const INT32_MIN = -0x8000_0000;

/** A body that goes into a frame with an int32 length field. */
export function checkBytes(value: unknown, what: string): InvalidArgumentError | undefined {
  if (!(value instanceof Uint8Array)) {
    return new InvalidArgumentError(
      `${what} must be a Uint8Array, got ${value === null ? "null" : typeof value}`,
    );
  }
  if (value.byteLength > INT32_MAX) {
    return new InvalidArgumentError(
      `${what} has ${value.byteLength} bytes; the wire's int32 length field allows ${INT32_MAX}`,
    );
  }
  return undefined;
}

/** An int32 field, at least `min`. */
export function checkInt32(
  value: unknown,
  what: string,
  min = INT32_MIN,
): InvalidArgumentError | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= INT32_MAX) {
    return undefined;
  }
  return new InvalidArgumentError(
    `${what} must be an integer from ${min} to ${INT32_MAX}, got ${String(value)}`,
  );
}

/** A `timeoutMs` option. */
export function checkTimeout(timeoutMs: unknown, what: string): InvalidArgumentError | undefined {
  if (isValidTimeout(timeoutMs)) return undefined;
  return new InvalidArgumentError(
    `${what}: timeoutMs must be a finite number ≥ 0, got ${String(timeoutMs)}`,
  );
}

/**
 * The byte count an upload announces: the data's own length for a `Uint8Array` (`byteLength`, if
 * given, must match), or `byteLength`, which is required for iterables and streams because the
 * UploadStream frame carries the count before the body.
 */
export function uploadByteLength(data: BodyData, byteLength: number | undefined): number {
  if (
    byteLength !== undefined && (!Number.isSafeInteger(byteLength) || byteLength < 0)
  ) {
    throw new InvalidArgumentError(
      `uploadStream: options.byteLength must be a non-negative integer, got ${String(byteLength)}`,
    );
  }
  if (data instanceof Uint8Array) {
    if (byteLength !== undefined && byteLength !== data.byteLength) {
      throw new InvalidArgumentError(
        `uploadStream: options.byteLength is ${byteLength} but the data has ${data.byteLength} bytes`,
      );
    }
    return data.byteLength;
  }
  if (byteLength === undefined) {
    throw new InvalidArgumentError(
      `uploadStream: options.byteLength is required when the data is not a Uint8Array; the ` +
        `UploadStream frame announces the byte count before the body`,
    );
  }
  return byteLength;
}
