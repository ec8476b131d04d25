/**
 * A frame's 8-byte length field when it arrives split across received chunks (a peer dripping
 * bytes, a WebSocket message boundary inside it): its bytes so far. A decoder makes one on first
 * need; most never do.
 *
 * @module
 */

import { readInt64 } from "./int64.ts";
import type { Int64 } from "./messages.ts";
import { LENGTH_FIELD } from "./frame-limits.ts";

export class SplitLength {
  readonly #field = new DataView(new ArrayBuffer(LENGTH_FIELD));
  /** Bytes of the field received so far (0 to 7 between chunks). */
  filled = 0;

  /** Takes the field's next bytes from `chunk[offset, end)`; returns the offset after them. */
  take(chunk: Uint8Array, offset: number, end: number): number {
    const field = this.#field;
    let filled = this.filled;
    while (filled < LENGTH_FIELD && offset < end) field.setUint8(filled++, chunk[offset++]!);
    this.filled = filled;
    return offset;
  }

  /** Whether all 8 bytes are in. */
  get complete(): boolean {
    return this.filled === LENGTH_FIELD;
  }

  /** The complete field's value; the field is empty again. */
  value(): Int64 {
    this.filled = 0;
    return readInt64(this.#field, 0);
  }
}
