/**
 * The file service: list files and fetch them as random-access chunk streams over typed services,
 * with a parallel, verifying, resumable download. Runtime-neutral; the folder catalog (node:fs)
 * lives in `cli/`.
 *
 * @module
 */

export {
  checkFileInfo,
  checkFileName,
  FileErrorCode,
  type FileInfo,
  fileService,
  type FileServiceMethods,
  type OpenedFile,
} from "./file-service.ts";
export {
  type CatalogFile,
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
export { ChecksumMismatchError, FileChangedError } from "./file-errors.ts";
export { Sha256, toHex } from "../checksum/sha256.ts";
