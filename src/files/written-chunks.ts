/**
 * What a download reads back from its own sink: the chunks a resumed download believes written,
 * re-verified against the server's chunk digests before they are kept (`keepWrittenChunks`), and
 * the whole file's SHA-256 read back in order for a server that announces no chunk digests (an
 * older Ferry, `hashWrittenFile`).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { Sha256, toHex } from "../checksum/sha256.ts";
import { type ChunkHasher, digestMatches } from "./chunk-hash.ts";
import { ChecksumMismatchError } from "./file-errors.ts";
import type { FileInfo } from "./file-service.ts";

/** Reads back a written chunk (may return fewer bytes or throw: that chunk is refetched). */
export type ReadWritten = (index: number, length: number) => Uint8Array | Promise<Uint8Array>;

/** An incremental hash (the default is Ferry's `Sha256`; Node's `createHash("sha256")` fits). */
export interface IncrementalHash {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}

/** Bytes of chunk `index` of `file` (the last one may be shorter). */
export function chunkLength(file: FileInfo, index: number): number {
  return index < file.chunkCount - 1 ? file.chunkSize : file.size - file.chunkSize * index;
}

/**
 * Reads back and hashes each candidate chunk (4 at a time); the good ones go into `done`. Without
 * `digests` (`verify: false`) the caller vouches for its chunks and all of them are kept.
 */
export async function keepWrittenChunks(
  file: FileInfo,
  candidates: ReadonlySet<number>,
  done: Set<number>,
  digests: Uint8Array | undefined,
  hashChunk: ChunkHasher,
  readWritten: ReadWritten | undefined,
  signal: AbortSignal,
): Promise<void> {
  const indices = [...candidates].filter((i) =>
    Number.isSafeInteger(i) && i >= 0 &&
    i < file.chunkCount
  ).sort((a, b) => a - b);
  if (digests === undefined) {
    for (const index of indices) done.add(index);
    return;
  }
  if (readWritten === undefined) {
    throw new InvalidArgumentError(
      "downloadFile: resuming with verify needs readWritten to check the chunks already written",
    );
  }
  let next = 0;
  const worker = async () => {
    while (next < indices.length) {
      signal.throwIfAborted();
      const index = indices[next++]!;
      let bytes: Uint8Array;
      try {
        bytes = await readWritten(index, chunkLength(file, index));
      } catch {
        continue; // unreadable: fetched again
      }
      if (bytes.byteLength !== chunkLength(file, index)) continue;
      if (digestMatches(digests, index, await hashChunk(bytes))) done.add(index);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** The whole file's SHA-256 read back in order (a server without chunk digests). */
export async function hashWrittenFile(
  file: FileInfo,
  readWritten: ReadWritten | undefined,
  createHash: (() => IncrementalHash) | undefined,
  signal: AbortSignal,
): Promise<string> {
  if (readWritten === undefined) {
    throw new InvalidArgumentError(
      `downloadFile: the server announces no chunk digests for ${file.name}; verifying the ` +
        `whole file needs readWritten`,
    );
  }
  const hash = (createHash ?? (() => new Sha256()))();
  for (let index = 0; index < file.chunkCount; index++) {
    signal.throwIfAborted();
    hash.update(await readWritten(index, chunkLength(file, index)));
  }
  const actual = toHex(hash.digest());
  if (actual !== file.sha256) throw new ChecksumMismatchError(file.name, file.sha256, actual);
  return actual;
}
