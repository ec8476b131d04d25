/**
 * Where the file service's files come from. A catalog lists files and opens one as a random-access
 * chunk source; the folder catalog (node:fs) lives in `cli/`, the in-memory one here serves tests
 * and pages that hold their files in memory.
 *
 * @module
 */

import { InvalidArgumentError, LimitError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import type { RandomAccessChunkSource } from "../responder/chunk-source.ts";
import { Sha256 } from "../checksum/sha256.ts";
import {
  checkFileName,
  CHUNK_DIGEST_LENGTH,
  type ChunkDigests,
  type FileInfo,
} from "./file-service.ts";

/**
 * An opened file: its description, the source of its chunks (closed on release) and the SHA-256
 * of each chunk of exactly this version (what the service's `digests` method answers).
 */
export interface CatalogFile {
  readonly info: FileInfo;
  readonly source: RandomAccessChunkSource;
  readonly digests: ChunkDigests;
}

/** The files a file service serves. */
export interface FileCatalog {
  list(): readonly FileInfo[] | Promise<readonly FileInfo[]>;
  /** The file `name`, or undefined when there is none. Throw when it exists but cannot be read. */
  open(name: string): CatalogFile | undefined | Promise<CatalogFile | undefined>;
}

/** Default chunk size of catalogs: 1 MiB. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** Largest chunk size: 64 MiB − 64 KiB (a chunk and its frame header must fit one frame). */
export const MAX_CHUNK_SIZE = (64 << 20) - (64 << 10);

/**
 * Checks that a file of `size` bytes in chunks of `chunkSize` has at most `maxChunksPerFile`
 * chunks (its digest list must fit one reply); the error says which chunk size would do.
 */
export function checkChunkCount(name: string, size: number, chunkSize: number): number {
  const chunkCount = Math.ceil(size / chunkSize);
  const max = defaultLimits.maxChunksPerFile;
  if (chunkCount > max) {
    throw new LimitError(
      `${name} would have ${chunkCount} chunks of ${chunkSize} bytes, more than maxChunksPerFile ` +
        `(${max}); use a chunk size of at least ${Math.ceil(size / max)} bytes`,
    );
  }
  return chunkCount;
}

/** Checks a chunk size: an integer in [1, MAX_CHUNK_SIZE]. */
export function checkChunkSize(chunkSize: unknown, where: string): number {
  const max = MAX_CHUNK_SIZE;
  if (
    typeof chunkSize !== "number" || !Number.isSafeInteger(chunkSize) || chunkSize < 1 ||
    chunkSize > max
  ) {
    throw new InvalidArgumentError(
      `${where}: chunkSize must be an integer in [1, ${max}], got ${String(chunkSize)}`,
    );
  }
  return chunkSize;
}

/** A catalog of in-memory files (hashed once, here). */
export function memoryFileCatalog(
  files: Readonly<Record<string, Uint8Array>>,
  options: { readonly chunkSize?: number } = {},
): FileCatalog {
  const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE, "memoryFileCatalog");
  const entries = new Map<
    string,
    { info: FileInfo; bytes: Uint8Array; digests: ChunkDigests }
  >();
  for (const [name, bytes] of Object.entries(files)) {
    try {
      checkFileName(name);
    } catch (error) {
      throw new InvalidArgumentError(`memoryFileCatalog: ${(error as Error).message}`);
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(`memoryFileCatalog: ${name} is not a Uint8Array`);
    }
    const chunkCount = checkChunkCount(name, bytes.byteLength, chunkSize);
    const chunks = new Uint8Array(chunkCount * CHUNK_DIGEST_LENGTH);
    for (let i = 0; i < chunkCount; i++) {
      const digest = new Sha256().update(bytes.subarray(i * chunkSize, (i + 1) * chunkSize));
      chunks.set(digest.digest(), i * CHUNK_DIGEST_LENGTH);
    }
    const sha256 = new Sha256().update(bytes).hexDigest();
    const info: FileInfo = { name, size: bytes.byteLength, chunkSize, chunkCount, sha256 };
    entries.set(name, { info, bytes, digests: { sha256, chunks } });
  }
  return {
    list: () => [...entries.values()].map((entry) => entry.info),
    open: (name) => {
      const entry = entries.get(name);
      if (entry === undefined) return undefined;
      const { info, bytes, digests } = entry;
      return {
        info,
        digests,
        source: {
          chunkCount: info.chunkCount,
          getChunk: (index) => bytes.subarray(index * chunkSize, (index + 1) * chunkSize),
        },
      };
    },
  };
}
