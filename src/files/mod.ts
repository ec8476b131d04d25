/**
 * The file service: list files and fetch them as random-access chunk streams over typed services,
 * with a parallel, verifying, resumable download. Runtime-neutral; the folder catalog (node:fs)
 * lives in `cli/`.
 *
 * @module
 */

export {
  checkFileName,
  CHUNK_DIGEST_LENGTH,
  type ChunkDigests,
  FileErrorCode,
  type FileInfo,
  fileService,
  type FileServiceMethods,
  type OpenedFile,
} from "./file-service.ts";
export {
  type CatalogFile,
  checkChunkCount,
  checkChunkSize,
  DEFAULT_CHUNK_SIZE,
  type FileCatalog,
  memoryFileCatalog,
} from "./file-catalog.ts";
export { fileServiceImplementation } from "./file-service-handler.ts";
export {
  downloadFile,
  type DownloadFileOptions,
  type DownloadProgress,
  type DownloadResult,
  type FileTransferClient,
  type IncrementalHash,
} from "./file-download.ts";
export { downloadFileFromPool, type PoolDownloadOptions } from "./pool-download.ts";
export {
  ChecksumMismatchError,
  ChunkDigestMismatchError,
  FileChangedError,
} from "./file-errors.ts";
export { type ChunkHasher, defaultChunkHasher } from "./chunk-hash.ts";
export { Sha256, toHex } from "../checksum/sha256.ts";
