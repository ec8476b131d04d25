/**
 * Where the encoder writes frame headers: small regions carved from shared slabs.
 *
 * Allocating a fresh `ArrayBuffer` costs on the order of a microsecond in V8 (more than encoding a
 * small frame), so headers up to {@linkcode SLAB_MAX_ALLOCATION} bytes are taken from an 8 KiB
 * slab instead, as Node's `Buffer` pool does. A region is never handed out twice: when a slab is
 * full the allocator starts a new one and the old slab lives on only as long as some header still
 * views it. So a header queued in an adapter can never be overwritten by a later frame.
 *
 * Consequence for callers: a header chunk may share its `ArrayBuffer` with other headers. Write it
 * as a view (every socket and WebSocket API does); never transfer or detach its `.buffer`.
 *
 * @module
 */

const SLAB_SIZE = 8 * 1024;
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

/** Largest allocation served from a slab; larger headers get their own buffer. */
export const SLAB_MAX_ALLOCATION = 1024;

/**
 * After {@linkcode HeaderAllocator.allocate}, `bytes`/`view` cover the buffer holding the region
 * and `offset` is where the region starts. (Fields instead of a returned object: no allocation per
 * header.)
 */
export class HeaderAllocator {
  bytes: Uint8Array = EMPTY;
  view: DataView = EMPTY_VIEW;
  offset = 0;

  #slab: Uint8Array = new Uint8Array(SLAB_SIZE);
  #slabView: DataView = new DataView(this.#slab.buffer);
  #used = 0;

  /** Reserves `length` bytes (zeroed, never handed out before); see the class fields. */
  allocate(length: number): void {
    if (length > SLAB_MAX_ALLOCATION) {
      this.bytes = new Uint8Array(length);
      this.view = new DataView(this.bytes.buffer);
      this.offset = 0;
      return;
    }
    // A slab whose buffer a caller transferred anyway has byteLength 0: start a new one.
    if (this.#used + length > SLAB_SIZE || this.#slab.byteLength === 0) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#slabView = new DataView(this.#slab.buffer);
      this.#used = 0;
    }
    this.bytes = this.#slab;
    this.view = this.#slabView;
    this.offset = this.#used;
    this.#used += length;
  }

  /** The region just allocated, as its own view; call once the region is written. */
  region(length: number): Uint8Array {
    const bytes = this.bytes;
    if (bytes === this.#slab) return bytes.subarray(this.offset, this.offset + length);
    // A dedicated buffer: hand it over and do not keep it alive here.
    this.bytes = EMPTY;
    this.view = EMPTY_VIEW;
    return bytes;
  }
}
