/**
 * Node `onread` plumbing for the TCP and TLS adapters (`node-socket.ts` attaches it): where each
 * read lands — the sink's own buffer for the tail of a large frame, else one landing buffer shared
 * by the whole process — and the copies a sink may keep.
 *
 * @module
 */

import type { SocketSink } from "../../src/socket.ts";

/** Bytes of the process-wide read landing buffer, and of each slab that keeps copies of reads. */
const SLAB_BYTES = 64 * 1024;

/**
 * Where reads land when the sink offers no buffer of its own: ONE buffer for every socket of the
 * process. libuv reads a socket into it and Node calls `onread.callback` synchronously before any
 * other read can happen, and the callback copies the bytes out before it returns, so no socket's
 * bytes are ever overwritten. A buffer per socket cost 64 KiB per idle connection.
 */
const landing = new Uint8Array(SLAB_BYTES);
/**
 * The read after one that filled the sink's own buffer (a large frame just ended) lands in only
 * this much of the landing buffer: enough for the next frame's length and fixed fields, so that if
 * that frame is large too, the sink offers its own buffer for the rest of it (read there directly),
 * and only these few bytes are copied — not a whole landing buffer of the next body, copied twice
 * (into the slab here, then into the frame). The probe takes the place of that landing read (as
 * many reads as before), and 128 KiB fewer bytes are copied per 1 MiB chunk.
 *
 * Owned bodies (fresh memory for every frame) take the probe too since glibc keeps the collected
 * bodies' memory (malloc-thresholds.ts); before that, page faults on memory glibc had trimmed rose
 * with it (docs/chunk-fetch-profile.md).
 */
const PROBE_BYTES = 256;
const probe = landing.subarray(0, PROBE_BYTES);
/** Copies of reads, carved front to back (a region is handed out once, never reused). */
let kept = new Uint8Array(SLAB_BYTES);
let keptUsed = 0;

/** A copy of `bytes` the sink may keep (views of it outlive the read). */
function keep(bytes: Uint8Array): Uint8Array {
  const length = bytes.byteLength;
  // A read is at most the landing buffer's size, so it always fits a fresh slab.
  if (keptUsed + length > kept.byteLength) {
    kept = new Uint8Array(SLAB_BYTES);
    keptUsed = 0;
  }
  const copy = kept.subarray(keptUsed, keptUsed + length);
  copy.set(bytes);
  keptUsed += length;
  return copy;
}

/**
 * Node `onread` plumbing: reads land in the sink's `readBuffer()` when it offers one (the tail
 * of a large frame), otherwise in the process-wide landing buffer, whose bytes are copied into a
 * slab shared by all sockets before the sink sees them (right after a read that completed a large
 * frame, only `PROBE_BYTES`). So an idle socket holds no read buffer. Bytes read before `attach`
 * are held.
 */
export class DirectReads {
  #sink: SocketSink | undefined;
  #onSinkError: ((error: unknown) => void) | undefined;
  #held: Uint8Array[] = [];
  /** The last read filled the sink's buffer: the sink's frame is complete. */
  #filledSinkBuffer = false;
  readonly options = {
    buffer: (): Uint8Array => this.#next(),
    callback: (bytes: number, buffer: Uint8Array): boolean => {
      const read = buffer.subarray(0, bytes);
      const landed = buffer.buffer === landing.buffer;
      this.#filledSinkBuffer = !landed && bytes === buffer.byteLength;
      const chunk = landed ? keep(read) : read;
      if (this.#sink === undefined) {
        this.#held.push(chunk);
        return true;
      }
      try {
        this.#sink.data(chunk);
      } catch (error) {
        this.#onSinkError?.(error);
      }
      return true;
    },
  };

  attach(sink: SocketSink, onSinkError: (error: unknown) => void): void {
    this.#sink = sink;
    this.#onSinkError = onSinkError;
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) sink.data(chunk);
  }

  #next(): Uint8Array {
    const direct = this.#sink?.readBuffer?.();
    if (direct !== undefined && direct.byteLength > 0) return direct;
    return this.#filledSinkBuffer ? probe : landing;
  }
}
