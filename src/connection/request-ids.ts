/**
 * Request ids for one connection: int64 on the wire, unique among the requests in flight, always a
 * small integer here. V8 stores integers below 2^30 as Smis: no HeapNumber box where an id is kept
 * (Map keys, closures, message objects) and the cheapest Map hashing, which is measurable at
 * hundreds of thousands of RPCs per second. The sequence starts at a random point below 2^30 (ids
 * from different connections and restarts do not line up) and wraps to 0 after 2^30 − 1; an id
 * comes back only after 2^30 later requests (skip ids still in flight if that must be certain).
 * The random start is drawn by the first `next()`: a connection that never sends a request (most
 * of a server's accepted connections) costs no random draw and no buffer for it.
 *
 * @module
 */

const SMI_ID_LIMIT = 0x3fff_ffff;

export class RequestIds {
  /** The next id; -1 until the first `next()` draws the random start. */
  #next = -1;

  next(): number {
    let id = this.#next;
    // 30 random bits: a uniformly random start in [0, 2^30).
    if (id < 0) id = crypto.getRandomValues(new Uint32Array(1))[0]! >>> 2;
    this.#next = id >= SMI_ID_LIMIT ? 0 : id + 1;
    return id;
  }
}
