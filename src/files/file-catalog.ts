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

/**
 * Default chunk size of catalogs: 1 MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHUNK_SIZE, memoryFileCatalog } from "ferry-transport/files";
 *
 * // Without a chunkSize option a catalog cuts files into DEFAULT_CHUNK_SIZE chunks.
 * const catalog = memoryFileCatalog({ "video.bin": new Uint8Array(5 * DEFAULT_CHUNK_SIZE + 1) });
 * for (const file of await catalog.list()) {
 *   console.log(file.chunkSize === DEFAULT_CHUNK_SIZE, file.chunkCount); // true 6
 * }
 * ```
 */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** Largest chunk size: 64 MiB − 64 KiB (a chunk and its frame header must fit one frame). */
export const MAX_CHUNK_SIZE = (64 << 20) - (64 << 10);

/**
 * Checks that a file of `size` bytes in chunks of `chunkSize` has at most `maxChunksPerFile`
 * chunks (its digest list must fit one reply); the error says which chunk size would do.
 *
 * @example
 * ```ts
 * import { LimitError } from "ferry-transport";
 * import { checkChunkCount } from "ferry-transport/files";
 *
 * // A catalog of your own checks each file's chunking before it serves the file.
 * try {
 *   console.log(checkChunkCount("disk.img", 4 * 2 ** 40, 1 << 20)); // 4 TiB in 1 MiB chunks
 * } catch (error) {
 *   if (!(error instanceof LimitError)) throw error;
 *   console.log(error.message); // … use a chunk size of at least 4194304 bytes
 * }
 * ```
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

/**
 * Checks a chunk size: an integer in [1, MAX_CHUNK_SIZE].
 *
 * @example
 * ```ts
 * import { checkChunkSize, memoryFileCatalog } from "ferry-transport/files";
 *
 * // A chunk size from a command line, refused with a message naming the option before use.
 * const chunkSize = checkChunkSize(Number("262144"), "--chunk-size");
 * const catalog = memoryFileCatalog({ "a.bin": new Uint8Array(1 << 20) }, { chunkSize });
 * console.log((await catalog.list()).map((file) => file.chunkCount)); // [ 4 ]
 * ```
 */
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

/**
 * A catalog of in-memory files (hashed once, here).
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, TransportServer } from "ferry-transport";
 * import { fileService, fileServiceImplementation, memoryFileCatalog } from "ferry-transport/files";
 * import { tcpListen } from "ferry-transport/node";
 * import { ServiceRouter } from "ferry-transport/rpc";
 *
 * const catalog = memoryFileCatalog(
 *   { "hello.txt": new TextEncoder().encode("hello, ferry\n"), "zeros.bin": new Uint8Array(1e6) },
 *   { chunkSize: 64 * 1024 },
 * );
 * const streams = new OneForOneStreamManager();
 * const router = new ServiceRouter().serve(fileService, fileServiceImplementation(catalog, streams));
 * const server = new TransportServer({ rpcHandler: router, streamManager: streams });
 * await server.listen(tcpListen({ host: "127.0.0.1", port: 7337 }));
 * ```
 */
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
