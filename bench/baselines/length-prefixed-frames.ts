/**
 * The framing of the raw `node:net` echo baselines: `length:uint32 BE` then `length` payload bytes.
 * It is the least a pipelined request/response protocol over TCP must do (find frame boundaries
 * in a byte stream), so it is the floor Ferry's Spark framing is compared with.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** Bytes of the length prefix. */
export const lengthPrefixBytes = 4;

/** One frame: the 4-byte length prefix followed by `payload`. */
export function encodeLengthPrefixed(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(lengthPrefixBytes + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.set(payload, lengthPrefixBytes);
  return frame;
}

/**
 * Splits a byte stream into length-prefixed frames. Calls `onFrame` with each whole frame (prefix
 * included, a view into the received bytes: no copy unless a frame straddles two reads).
 */
export class LengthPrefixedReader {
  #pending: Buffer | undefined;
  readonly #onFrame: (frame: Buffer) => void;

  constructor(onFrame: (frame: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.#pending !== undefined) {
      data = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let offset = 0;
    while (data.byteLength - offset >= lengthPrefixBytes) {
      const end = offset + lengthPrefixBytes + data.readUInt32BE(offset);
      if (end > data.byteLength) break;
      this.#onFrame(data.subarray(offset, end));
      offset = end;
    }
    if (offset < data.byteLength) this.#pending = data.subarray(offset);
  }
}
