/**
 * Buffers lent to the gateway's relay by a producer in the same process, given back once the
 * browser's socket has written them, so the next chunk is read into memory already mapped.
 *
 * Why: `ferry serve` reads every 1 MiB chunk into a buffer of its own. Fresh buffers are external
 * memory to the JavaScript engine, and V8 starts a full collection every few dozen MiB of it:
 * ~16 mark-compacts per 256 MiB served, a third of the server's CPU for a download once the
 * gateway reached the file service in process (`in-process-network.ts`). Lent buffers from a
 * pool cost none of that.
 *
 * How it stays safe: a buffer goes back to its pool only through {@linkcode giveBackRelayed},
 * called by whoever last reads it, once nothing reads it any more: the gateway's browser writer
 * for a body it wrote whole (the view covers exactly what was lent) once the socket reports those
 * bytes flushed (`bufferedAmount` says they left it), and, over TCP, the folder catalog's
 * `recycle` once the server's socket says its OS write completed (`Socket.writeLent`). Anything
 * else that happens to a lent buffer — dropped with a closed session, copied into a frame, kept by
 * someone — simply leaves it with its holder: the pool keeps no reference to lent buffers and the
 * garbage collector takes them as usual. A buffer is given back at most once per lending.
 *
 * @module
 */

/** Lent buffers (by their memory) and the pool and length they were lent with. */
const lent = new WeakMap<ArrayBufferLike, Loan>();

interface Loan {
  readonly pool: RelayBufferPool;
  /** The pool's whole buffer. */
  readonly whole: Uint8Array;
  /** Bytes lent, from its start. */
  readonly length: number;
}

/** A free list of same-size buffers for relayed bodies. */
export class RelayBufferPool {
  readonly #size: number;
  readonly #maxFree: number;
  readonly #free: Uint8Array[] = [];
  readonly #allocate: (size: number) => Uint8Array;

  /**
   * Buffers of `size` bytes; at most `maxFree` of them are kept while not lent (an idle server
   * holds `size × maxFree` bytes at most). `allocate` gives fresh memory of exactly `size` bytes,
   * a buffer of its own (default `new Uint8Array(size)`; Node's `Buffer.allocUnsafeSlow` skips
   * the zero-fill).
   */
  constructor(
    size: number,
    maxFree: number,
    allocate: (size: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {
    if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(maxFree) || maxFree < 0) {
      throw new RangeError(
        `RelayBufferPool: expected a positive size and a non-negative maxFree, received ` +
          `${size} and ${maxFree}`,
      );
    }
    this.#size = size;
    this.#maxFree = maxFree;
    this.#allocate = allocate;
  }

  /** Buffers kept for reuse right now. */
  get free(): number {
    return this.#free.length;
  }

  /**
   * `length` bytes to fill entirely before use (a reused buffer holds an earlier body). Lengths
   * above the pool's size get a fresh buffer that is never pooled.
   */
  take(length: number): Uint8Array {
    if (length > this.#size) return this.#allocate(length);
    let whole = this.#free.pop();
    if (whole === undefined) {
      whole = this.#allocate(this.#size);
      if (whole.byteOffset !== 0 || whole.buffer.byteLength !== this.#size) {
        throw new RangeError(
          `RelayBufferPool: allocate(${this.#size}) must return a buffer of its own, received ` +
            `a view of ${whole.byteLength} bytes at ${whole.byteOffset} of ${whole.buffer.byteLength}`,
        );
      }
    }
    lent.set(whole.buffer, { pool: this, whole, length });
    return whole.subarray(0, length);
  }

  /** Called by `giveBackRelayed` only. */
  reclaim(whole: Uint8Array): void {
    if (this.#free.length < this.#maxFree) this.#free.push(whole);
  }
}

/** True when `bytes` is exactly a body a pool lent (and not given back yet). */
export function isLentWhole(bytes: Uint8Array): boolean {
  const loan = lent.get(bytes.buffer);
  return loan !== undefined && bytes.byteOffset === 0 && bytes.byteLength === loan.length;
}

/**
 * Nobody reads `bytes` any more: if it is exactly a body a pool lent, the pool may reuse its
 * memory. Anything else is ignored.
 */
export function giveBackRelayed(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  const loan = lent.get(buffer);
  if (loan === undefined || bytes.byteOffset !== 0 || bytes.byteLength !== loan.length) return;
  lent.delete(buffer);
  loan.pool.reclaim(loan.whole);
}
