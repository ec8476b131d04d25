/**
 * What a file download can fail with besides I/O errors: the bytes do not hash to the SHA-256
 * the server announced, or the file is not the one a resumed download started with.
 *
 * @module
 */

import { PayloadError } from "../errors.ts";

/**
 * The downloaded file's SHA-256 is not the announced one (code `ERR_PAYLOAD`). Checked at the end
 * of a download from a server that announces no chunk digests (an older Ferry).
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { ChecksumMismatchError, downloadFile } from "ferry-transport/files";
 *
 * declare const connections: TransportClient[];
 * let bytes = new Uint8Array(0);
 * let chunkSize = 0;
 * try {
 *   await downloadFile({
 *     name: "dataset.bin",
 *     connections,
 *     writeOrder: "arrival",
 *     onOpen: (file) => {
 *       bytes = new Uint8Array(file.size);
 *       chunkSize = file.chunkSize;
 *     },
 *     write: (chunk, _index, offset) => bytes.set(chunk, offset),
 *     // What the whole-file check reads back.
 *     readWritten: (index, length) => bytes.subarray(index * chunkSize, index * chunkSize + length),
 *   });
 * } catch (error) {
 *   if (!(error instanceof ChecksumMismatchError)) throw error;
 *   console.log(`corrupt download: expected ${error.expected}, got ${error.actual}`);
 * }
 * ```
 */
export class ChecksumMismatchError extends PayloadError {
  readonly expected: string;
  readonly actual: string;
  constructor(name: string, expected: string, actual: string) {
    super(`SHA-256 mismatch for ${name}: expected ${expected}, computed ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The file changed: two connections opened different versions, a chunk has the wrong length, or
 * a resumed download's recorded size, chunking or SHA-256 no longer match (code `ERR_PAYLOAD`).
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { downloadFile, FileChangedError, type FileInfo } from "ferry-transport/files";
 *
 * declare const connections: TransportClient[];
 * // Recorded by an earlier, interrupted run (its onOpen and onChunkWritten).
 * declare const partial: { file: FileInfo; written: number[] };
 * declare function writeAt(chunk: Uint8Array, offset: number): Promise<void>;
 * declare function readAt(offset: number, length: number): Promise<Uint8Array>;
 * const sink = {
 *   name: partial.file.name,
 *   connections,
 *   writeOrder: "arrival" as const,
 *   write: (chunk: Uint8Array, _index: number, offset: number) => writeAt(chunk, offset),
 *   readWritten: (index: number, length: number) => readAt(index * partial.file.chunkSize, length),
 * };
 * try {
 *   await downloadFile({ ...sink, expect: partial.file, written: partial.written });
 * } catch (error) {
 *   if (!(error instanceof FileChangedError)) throw error;
 *   await downloadFile(sink); // a new version: the partial file is no use, start over
 * }
 * ```
 */
export class FileChangedError extends PayloadError {}

/**
 * A chunk kept failing its announced SHA-256: every fetch of it (first try and refetches, over
 * whichever connections there were) arrived with other bytes (code `ERR_PAYLOAD`).
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { ChunkDigestMismatchError, downloadFile } from "ferry-transport/files";
 *
 * declare const connections: TransportClient[];
 * const chunks: Uint8Array[] = [];
 * try {
 *   await downloadFile({
 *     name: "dataset.bin",
 *     connections,
 *     maxRefetches: 2,
 *     write: (chunk) => void chunks.push(chunk),
 *   });
 * } catch (error) {
 *   if (!(error instanceof ChunkDigestMismatchError)) throw error;
 *   console.log(`chunk ${error.chunk} arrived damaged on all ${error.attempts} fetches`);
 * }
 * ```
 */
export class ChunkDigestMismatchError extends PayloadError {
  readonly chunk: number;
  readonly attempts: number;
  constructor(name: string, chunk: number, attempts: number, expected: string, actual: string) {
    super(
      `Chunk ${chunk} of ${name} failed its SHA-256 on all ${attempts} fetches (expected ` +
        `${expected}, last computed ${actual})`,
    );
    this.chunk = chunk;
    this.attempts = attempts;
  }
}
