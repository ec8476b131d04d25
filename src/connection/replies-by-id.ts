/**
 * Requests waiting for a reply matched by its int64 requestId (RPCs, uploads, merged-block meta).
 *
 * The ids this side allocates are small sequential integers (request-ids.ts: below 2^30), so they
 * go into a ring indexed by `id & mask`: a store and a load per request instead of a hash map's
 * insert, lookup and delete, with no entry objects to allocate. Any other id (a peer-chosen 63-bit
 * id, a bigint) and an id whose slot is taken by a request still in flight (a straggler with a long
 * deadline that the sequence has lapped) go to a `Map`. Lookups always compare the exact int64
 * value, so a reply with any id from any peer matches exactly the request that carried it.
 *
 * The ring is allocated by the first `set` of a ring id: a connection that never sends a request
 * (most of a server's accepted connections; every connection's merged-block-meta table) costs
 * no ring at all (two rings of 256 slots were ~6.5 KB per connection under Node).
 *
 * @module
 */

import type { Int64 } from "../protocol/messages.ts";

/** Ids in `[0, 2^30)` are ring candidates (V8 small integers). */
const RING_ID_MASK = 0x3fff_ffff;
const INITIAL_RING = 256;
/** The ring grows on a collision up to this many slots; beyond, collisions go to the map. */
const MAX_RING = 1 << 17;

/**
 * The one-slot ring every table starts with, shared and never written: with mask 0 a lookup reads
 * slot 0, finds no value there and falls through to the map; `set` allocates a real ring first.
 */
const NO_IDS = new Int32Array(1);
const NO_SLOTS: undefined[] = new Array(1).fill(undefined);

export class RepliesById<T> {
  #ids: Int32Array = NO_IDS;
  #slots: (T | undefined)[] = NO_SLOTS;
  #mask = 0;
  #overflow: Map<Int64, T> | undefined;
  #size = 0;

  /** Requests waiting. */
  get size(): number {
    return this.#size;
  }

  /** Registers `value` under `id`. The id must not already be waiting. */
  set(id: Int64, value: T): void {
    this.#size++;
    if (typeof id === "number" && (id & RING_ID_MASK) === id) {
      if (this.#slots === NO_SLOTS) this.#allocate(INITIAL_RING);
      for (;;) {
        const index = id & this.#mask;
        if (this.#slots[index] === undefined) {
          this.#slots[index] = value;
          this.#ids[index] = id;
          return;
        }
        if (this.#mask + 1 >= MAX_RING) break;
        this.#grow();
      }
    }
    (this.#overflow ??= new Map()).set(id, value);
  }

  /** The value waiting under exactly `id`, if any. */
  get(id: Int64): T | undefined {
    if (typeof id === "number" && (id & RING_ID_MASK) === id) {
      const index = id & this.#mask;
      if (this.#ids[index] === id) {
        const value = this.#slots[index];
        if (value !== undefined) return value;
      }
    }
    return this.#overflow?.get(id);
  }

  /** Removes and returns the value waiting under exactly `id`, if any. */
  take(id: Int64): T | undefined {
    if (typeof id === "number" && (id & RING_ID_MASK) === id) {
      const index = id & this.#mask;
      if (this.#ids[index] === id) {
        const value = this.#slots[index];
        if (value !== undefined) {
          this.#slots[index] = undefined;
          this.#size--;
          return value;
        }
      }
    }
    const overflow = this.#overflow;
    if (overflow === undefined) return undefined;
    const value = overflow.get(id);
    if (value === undefined) return undefined;
    overflow.delete(id);
    this.#size--;
    return value;
  }

  /** Removes everything; returns what was waiting. */
  drain(): T[] {
    const values: T[] = [];
    const slots = this.#slots;
    for (let index = 0; index < slots.length; index++) {
      const value = slots[index];
      if (value !== undefined) {
        values.push(value);
        slots[index] = undefined;
      }
    }
    if (this.#overflow !== undefined) {
      for (const value of this.#overflow.values()) values.push(value);
      this.#overflow = undefined;
    }
    this.#size = 0;
    return values;
  }

  #allocate(size: number): void {
    this.#ids = new Int32Array(size);
    this.#slots = new Array(size).fill(undefined);
    this.#mask = size - 1;
  }

  /** Doubles the ring, moving every entry to its slot under the wider mask. */
  #grow(): void {
    const oldIds = this.#ids;
    const oldSlots = this.#slots;
    this.#allocate(oldSlots.length * 2);
    for (let index = 0; index < oldSlots.length; index++) {
      const value = oldSlots[index];
      if (value === undefined) continue;
      const id = oldIds[index]!;
      // Distinct old slots stay distinct under the wider mask (the low bits are kept), so this
      // cannot collide; the map fallback only keeps the invariant explicit.
      const slot = id & this.#mask;
      if (this.#slots[slot] === undefined) {
        this.#slots[slot] = value;
        this.#ids[slot] = id;
      } else {
        (this.#overflow ??= new Map()).set(id, value);
      }
    }
  }
}
