/**
 * Request ids for one connection: int64 on the wire, unique per connection, always a `number` here
 * (no BigInt on the hot path). The sequence starts at a random point below 2^52, so ids from
 * different connections (and restarts) do not line up, and increments by one; it would take 2^52
 * requests to reach the end of the safe-integer range, where it wraps to 0.
 *
 * @module
 */

const TWO_POW_32 = 4_294_967_296;

export class RequestIds {
  #next: number;

  constructor() {
    const words = crypto.getRandomValues(new Uint32Array(2));
    // 20 random high bits and 32 random low bits: a uniformly random start in [0, 2^52).
    this.#next = (words[0]! >>> 12) * TWO_POW_32 + words[1]!;
  }

  next(): number {
    const id = this.#next;
    this.#next = id >= Number.MAX_SAFE_INTEGER ? 0 : id + 1;
    return id;
  }
}
