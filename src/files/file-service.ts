/**
 * The file service: a typed service (`src/rpc/`) that lists files and opens one as a random-access
 * chunk stream, which the client then fetches with ordinary ChunkFetchRequests (in any order, on
 * the connection that opened it, so a download can resume from chunk N).
 *
 * | method | params | result |
 * |---|---|---|
 * | `list` | – | `FileInfo[]` |
 * | `open` | `{ name }` | `OpenedFile` (`FileInfo` + `streamId`, an int64 as bigint) |
 * | `release` | `{ streamId }` | `boolean` (whether this connection had it open) |
 * | `digests` | `{ streamId }` | `ChunkDigests` of the version that stream serves |
 *
 * `digests` is a method of its own (not a field of `list` or `open`) so that listing stays small
 * and each download asks for the list once, bound to the exact version its stream opened: the
 * SHA-256 of every chunk (32 bytes each, concatenated) and of the whole file. A client of a server
 * without it (an unknown-method failure) falls back to verifying the whole file.
 *
 * A stream id belongs to the connection that opened it (another connection asking for its chunks
 * gets the unknown-stream failure), and lives until released or until that connection closes.
 *
 * @module
 */

import {
  defineService,
  method,
  type MethodDefinition,
  type ServiceDefinition,
} from "../rpc/service-definition.ts";

/** What the service says about one file. */
export interface FileInfo {
  /** Name within the served set (no directories). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Bytes per chunk; every chunk but the last has exactly this many. */
  readonly chunkSize: number;
  /** `ceil(size / chunkSize)` (0 for an empty file). */
  readonly chunkCount: number;
  /** SHA-256 of the whole file, 64 lowercase hex digits. */
  readonly sha256: string;
}

/** An opened file: its description and the stream serving its chunks. */
export interface OpenedFile extends FileInfo {
  readonly streamId: bigint;
}

/** The SHA-256 of each chunk of an opened file, and of the whole file. */
export interface ChunkDigests {
  /** SHA-256 of the whole file (64 lowercase hex digits), equal to the opened `FileInfo`'s. */
  readonly sha256: string;
  /** `32 × chunkCount` bytes: the SHA-256 of chunk i at `[32 i, 32 i + 32)`. */
  readonly chunks: Uint8Array;
}

/**
 * Bytes of one chunk digest (SHA-256).
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { CHUNK_DIGEST_LENGTH, fileService, toHex } from "ferry-transport/files";
 * import { serviceClient } from "ferry-transport/rpc";
 *
 * declare const client: TransportClient;
 * const files = serviceClient(fileService, client);
 * const { streamId, chunkCount } = await files.open({ name: "dataset.bin" });
 * const { chunks } = await files.digests({ streamId });
 * // Chunk i's SHA-256 is the i-th slice of CHUNK_DIGEST_LENGTH bytes.
 * for (let i = 0; i < chunkCount; i++) {
 *   console.log(i, toHex(chunks.subarray(i * CHUNK_DIGEST_LENGTH, (i + 1) * CHUNK_DIGEST_LENGTH)));
 * }
 * await files.release({ streamId });
 * ```
 */
export const CHUNK_DIGEST_LENGTH = 32;

/**
 * Failure codes of the file service (`RemoteError.remoteCode`).
 *
 * @example
 * ```ts
 * import { RemoteError, type TransportClient } from "ferry-transport";
 * import { FileErrorCode, fileService } from "ferry-transport/files";
 * import { serviceClient } from "ferry-transport/rpc";
 *
 * declare const client: TransportClient;
 * const files = serviceClient(fileService, client);
 * try {
 *   const { streamId, size } = await files.open({ name: "report.csv" });
 *   console.log(`report.csv: ${size} bytes`);
 *   await files.release({ streamId });
 * } catch (error) {
 *   if (!(error instanceof RemoteError) || error.remoteCode !== FileErrorCode.NotFound) throw error;
 *   console.log("this server has no report.csv");
 * }
 * ```
 */
export const FileErrorCode = {
  NotFound: "ERR_FILE_NOT_FOUND",
  Unreadable: "ERR_FILE_UNREADABLE",
} as const;

const NAME = /^[^/\\\0]{1,255}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks a file name: 1–255 characters, no `/`, `\` or NUL, not `.` or `..`.
 *
 * @example
 * ```ts
 * import { checkFileName } from "ferry-transport/files";
 *
 * // Names from a URL or a command line, checked before they are asked for or served.
 * for (const name of ["report.csv", "../etc/passwd", ""]) {
 *   try {
 *     console.log(`ok: ${checkFileName(name)}`);
 *   } catch (error) {
 *     console.log(`refused: ${(error as TypeError).message}`);
 *   }
 * }
 * ```
 */
export function checkFileName(value: unknown): string {
  if (typeof value !== "string" || !NAME.test(value) || value === "." || value === "..") {
    throw new TypeError(
      `a file name must be 1-255 characters without / \\ or NUL, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkCount(value: unknown, field: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${field} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Checks a decoded `FileInfo` (consistent size, chunk size and count; hex SHA-256). */
export function checkFileInfo(value: unknown): FileInfo {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`a file description must be an object, got ${String(value)}`);
  }
  const v = value as Record<string, unknown>;
  const name = checkFileName(v.name);
  const size = checkCount(v.size, `size of ${name}`, 0);
  const chunkSize = checkCount(v.chunkSize, `chunkSize of ${name}`, 1);
  const chunkCount = checkCount(v.chunkCount, `chunkCount of ${name}`, 0);
  if (chunkCount !== Math.ceil(size / chunkSize)) {
    throw new TypeError(
      `${name}: chunkCount ${chunkCount} does not match size ${size} / chunkSize ${chunkSize}`,
    );
  }
  if (typeof v.sha256 !== "string" || !SHA256_HEX.test(v.sha256)) {
    throw new TypeError(`${name}: sha256 must be 64 lowercase hex digits, got ${String(v.sha256)}`);
  }
  return { name, size, chunkSize, chunkCount, sha256: v.sha256 };
}

function checkStreamId(value: unknown): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`streamId must be an int64 (bigint), got ${typeof value}`);
  }
  return value;
}

/** The file service's methods. */
export type FileServiceMethods = {
  readonly list: MethodDefinition<void, FileInfo[]>;
  readonly open: MethodDefinition<{ name: string }, OpenedFile>;
  readonly release: MethodDefinition<{ streamId: bigint }, boolean>;
  readonly digests: MethodDefinition<{ streamId: bigint }, ChunkDigests>;
};

/** Checks a decoded `ChunkDigests` (hex whole-file digest, whole 32-byte chunk digests). */
export function checkChunkDigests(value: unknown): ChunkDigests {
  const v = value as { sha256?: unknown; chunks?: unknown } | null;
  if (typeof v?.sha256 !== "string" || !SHA256_HEX.test(v.sha256)) {
    throw new TypeError(`digests: sha256 must be 64 lowercase hex digits`);
  }
  if (!(v.chunks instanceof Uint8Array) || v.chunks.byteLength % CHUNK_DIGEST_LENGTH !== 0) {
    throw new TypeError(`digests: chunks must be bytes, a multiple of ${CHUNK_DIGEST_LENGTH}`);
  }
  return { sha256: v.sha256, chunks: v.chunks };
}

/**
 * The file service's definition, shared by server and clients.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { fileService } from "ferry-transport/files";
 * import { tcpConnect } from "ferry-transport/node";
 * import { serviceClient } from "ferry-transport/rpc";
 *
 * const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: 7337 }));
 * const files = serviceClient(fileService, client);
 * for (const file of await files.list(undefined, { timeoutMs: 5_000 })) {
 *   console.log(`${file.name}: ${file.size} bytes in ${file.chunkCount} chunks, ${file.sha256}`);
 * }
 * await client.close();
 * ```
 */
export const fileService: ServiceDefinition<FileServiceMethods> = defineService("ferry.files", {
  list: method<void, FileInfo[]>({
    result: (value) => {
      if (!Array.isArray(value)) throw new TypeError(`expected an array, got ${typeof value}`);
      return value.map(checkFileInfo);
    },
  }),
  open: method<{ name: string }, OpenedFile>({
    params: (value) => ({ name: checkFileName((value as { name?: unknown } | null)?.name) }),
    result: (value) => ({
      ...checkFileInfo(value),
      streamId: checkStreamId((value as { streamId?: unknown }).streamId),
    }),
  }),
  release: method<{ streamId: bigint }, boolean>({
    params: (value) => ({
      streamId: checkStreamId((value as { streamId?: unknown } | null)?.streamId),
    }),
    result: (value) => {
      if (typeof value !== "boolean") throw new TypeError(`expected a boolean, got ${value}`);
      return value;
    },
  }),
  digests: method<{ streamId: bigint }, ChunkDigests>({
    params: (value) => ({
      streamId: checkStreamId((value as { streamId?: unknown } | null)?.streamId),
    }),
    result: checkChunkDigests,
  }),
});
