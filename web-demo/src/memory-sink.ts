/**
 * The web demo's last-resort sink: the download held in memory (where the browser cannot write to
 * disk from a page), bounded by the caller. The chunks are kept as they arrive — each in a buffer
 * of its own (a chunk that is a view into a larger buffer is copied, so no larger buffer is kept
 * alive) — and joined into the Blob once, at the end: one copy of the file (into the Blob), not
 * two (into a whole-file buffer, then into the Blob).
 *
 * @module
 */

import type { DownloadSink } from "./download-sink.ts";

/**
 * A sink for a file of `size` bytes, held in memory; `finish` rejects unless the chunks written
 * cover the file exactly (each byte once).
 */
export function memorySink(size: number, description: string): DownloadSink {
  const chunks = new Map<number, Uint8Array>();
  return {
    kind: "memory",
    description,
    write: (chunk, offset) => {
      const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
      chunks.set(offset, whole ? chunk : chunk.slice());
    },
    finish: () => {
      const parts = [...chunks].sort(([a], [b]) => a - b);
      let end = 0;
      for (const [offset, chunk] of parts) {
        if (offset !== end) break;
        end += chunk.byteLength;
      }
      if (end !== size) {
        return Promise.reject(
          new RangeError(
            `The download held in memory is not whole: its chunks cover bytes 0 to ${end} ` +
              `contiguously, of ${size}`,
          ),
        );
      }
      chunks.clear();
      return Promise.resolve(new Blob(parts.map(([, chunk]) => chunk as Uint8Array<ArrayBuffer>)));
    },
    abort: () => {
      chunks.clear();
      return Promise.resolve();
    },
  };
}
