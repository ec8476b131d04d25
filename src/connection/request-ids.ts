/**
 * Request ids for one connection: int64 on the wire, unique among the requests in flight, always a
 * small integer here. V8 stores integers below 2^30 as Smis: no HeapNumber box where an id is kept
 * (Map keys, closures, message objects) and the cheapest Map hashing, which is measurable at
 * hundreds of thousands of RPCs per second. The sequence starts at a random point below 2^30 (ids
 * from different connections and restarts do not line up) and wraps to 0 after 2^30 − 1; an id
 * comes back only after 2^30 later requests (skip ids still in flight if that must be certain).
 *
 * @module
 */

const SMI_ID_LIMIT = 0x3fff_ffff;

export class RequestIds {
  #next: number;

  constructor() {
    // 30 random bits: a uniformly random start in [0, 2^30).
    this.#next = crypto.getRandomValues(new Uint32Array(1))[0]! >>> 2;
  }

  next(): number {
    const id = this.#next;
    this.#next = id >= SMI_ID_LIMIT ? 0 : id + 1;
    return id;
  }
}
