/**
 * `downloadFile`: fetches a file from the file service with N chunks in flight across several
 * connections, verifies every chunk against the SHA-256 the server announced for it as it
 * arrives, writes it at its offset, and resumes from whatever chunks a partial file holds.
 *
 * Each connection opens the file itself (a stream id belongs to the connection that opened it);
 * the first asks for the chunk digests of the version it opened (`digests`). Chunks are
 * dispatched in index order to the connection with the fewest in flight (`chunk-transfer.ts`); a
 * chunk failing its digest is refetched on another connection a bounded number of times, then the
 * download fails naming the chunk. Chunks are written one at a time in index order or (for
 * positional sinks) in arrival order, up to `maxWrites` at once.
 *
 * Resume is a chunk set, not a prefix: the caller names the chunks it believes are written
 * (`written`, or `startChunk` for a prefix); each is read back (`readWritten`) and hashed, the good
 * ones are kept and the bad or missing ones fetched again — so a truncated or damaged partial file
 * is repaired, not trusted. Against a server without `digests` (an older Ferry) the whole file is
 * fetched and its SHA-256 checked at the end by reading it back.
 *
 * @module
 */

import { type CallOptions, watchDeadline } from "../deadline.ts";
import { InvalidArgumentError, RemoteError } from "../errors.ts";
import type { Int64 } from "../protocol/messages.ts";
import { RpcErrorCode } from "../rpc/rpc-errors.ts";
import { type RpcTarget, serviceClient } from "../rpc/service-client.ts";
import { type ChunkHasher, defaultChunkHasher } from "./chunk-hash.ts";
import { type Lane, transferChunks, type TransferCounts } from "./chunk-transfer.ts";
import { FileChangedError } from "./file-errors.ts";
import {
  CHUNK_DIGEST_LENGTH,
  type ChunkDigests,
  type FileInfo,
  fileService,
  type OpenedFile,
} from "./file-service.ts";
import {
  chunkLength,
  hashWrittenFile,
  type IncrementalHash,
  keepWrittenChunks,
  type ReadWritten,
} from "./written-chunks.ts";

export type { IncrementalHash } from "./written-chunks.ts";

/** A connection a file can be fetched over (a `TransportClient`, a lease's client). */
export interface FileTransferClient extends RpcTarget {
  fetchChunk(streamId: Int64, chunkIndex: number, options?: CallOptions): Promise<Uint8Array>;
  /** Lends the chunk's body to `consume` until it returns or its promise settles (`lendChunks`). */
  fetchChunkWith?<T>(
    streamId: Int64,
    chunkIndex: number,
    consume: (body: Uint8Array) => T | PromiseLike<T>,
    options?: CallOptions,
  ): Promise<T>;
  readonly isActive?: boolean;
}

/** Where a download stands. */
export interface DownloadProgress {
  readonly file: FileInfo;
  /** Chunks verified and written, kept ones of a resumed download included (any order). */
  readonly chunksWritten: number;
  readonly bytesWritten: number;
  /** Chunks and bytes fetched by this call (excludes kept chunks). */
  readonly chunksFetched: number;
  readonly bytesFetched: number;
  /** Chunk requests in flight now. */
  readonly inFlight: number;
  readonly elapsedMs: number;
}

export interface DownloadFileOptions extends CallOptions {
  /** The file's name in the service's list. */
  readonly name: string;
  /** Connections to fetch over (at least one). */
  readonly connections: readonly FileTransferClient[];
  /** Chunk requests in flight across all connections (default 16). */
  readonly inFlight?: number;
  /**
   * Writes chunk `index` at byte `offset`; called in `writeOrder`, one at a time unless
   * `maxWrites` allows more (arrival order only). Unless
   * `lendChunks`, the bytes are the caller's: `write` may keep them, or transfer (detach) their
   * buffer where they span it whole (`postMessage` to a writer worker) — the download reads
   * nothing from them once it handed them to `hashChunk`, which may move them too (hash them in
   * that worker) as long as `write` then finds them there.
   */
  readonly write: (chunk: Uint8Array, index: number, offset: number) => void | Promise<void>;
  /**
   * `index` (default): `write` sees chunks in increasing index (kept chunks of a resume skipped),
   * for sinks that append; `arrival`: as they are verified, for positional sinks (a file, a
   * buffer) — no chunk waits for a slower one before it is written.
   */
  readonly writeOrder?: "index" | "arrival";
  /**
   * With `writeOrder: "arrival"`, how many `write` calls may run at once (default 1): for a sink
   * whose writes at distinct offsets are independent (positional file writes, which Node runs on
   * its thread pool), so one slow write does not hold back the chunks verified behind it. Index
   * order always writes one at a time.
   */
  readonly maxWrites?: number;
  /**
   * With `writeOrder: "arrival"`, fetch through the connections' `fetchChunkWith` where they have
   * it: each chunk's bytes are lent, valid only until `write` (and `hashChunk`) returned or their
   * promise settled, then reused for later traffic — no fresh buffer per chunk, for a sink that
   * copies the bytes out (a file write) rather than keeping them (default false).
   */
  readonly lendChunks?: boolean;
  /**
   * Resume: chunks believed written (re-verified through `readWritten`; bad ones refetched).
   * Iterated after `onOpen`, so it may depend on the file's description.
   */
  readonly written?: Iterable<number>;
  /** Resume: chunks `0 … startChunk − 1` are believed written (joins `written`). */
  readonly startChunk?: number;
  /** Reads back a written chunk (may return fewer bytes or throw: that chunk is refetched). */
  readonly readWritten?: ReadWritten;
  /** Resume: the file must still have this size, chunking and SHA-256. */
  readonly expect?: Pick<FileInfo, "size" | "chunkSize" | "chunkCount" | "sha256">;
  /** Verify chunks (or, from an older server, the whole file) (default true). */
  readonly verify?: boolean;
  /** SHA-256 of one chunk (default: WebCrypto, else Ferry's `Sha256`). */
  readonly hashChunk?: ChunkHasher;
  /** The whole-file hash for a server without chunk digests (default Ferry's `Sha256`). */
  readonly createHash?: () => IncrementalHash;
  /** Called once the file is open, before any chunk is fetched (record it for a resume). */
  readonly onOpen?: (file: FileInfo) => void | Promise<void>;
  /**
   * Called once a resume's chunks were checked (after `onOpen`, before any fetch): the chunks
   * kept, and how many of those believed written were bad or missing.
   */
  readonly onResumeChecked?: (kept: ReadonlySet<number>, rejected: number) => void;
  /** Called after each written chunk. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Called after chunk `index` was verified and written (e.g. to record it for a resume). */
  readonly onChunkWritten?: (index: number) => void;
  /**
   * Called when chunk `index` arrived (in arrival order, before it is verified), with the index of
   * the connection in `connections` that fetched it — e.g. for a chunk map.
   */
  readonly onChunkFetched?: (index: number, byteLength: number, connection: number) => void;
  /** Deadline of one chunk fetch and of the open call (default 60 000 ms). */
  readonly chunkTimeoutMs?: number;
  /** Times a chunk failing with an I/O error is retried on another connection (default 3). */
  readonly maxRetries?: number;
  /** Times a chunk failing its digest is fetched again (default 3). */
  readonly maxRefetches?: number;
}

export interface DownloadResult {
  readonly file: FileInfo;
  /** SHA-256 of the whole file, verified (undefined when `verify` was false). */
  readonly sha256: string | undefined;
  /** Whether chunks were verified one by one (false: the whole file, from an older server). */
  readonly chunkDigests: boolean;
  readonly chunksFetched: number;
  readonly bytesFetched: number;
  /** Chunks of a resumed download kept after re-verification. */
  readonly chunksKept: number;
  /** Chunks that arrived damaged and were fetched again. */
  readonly badChunks: number;
  readonly retries: number;
  readonly elapsedMs: number;
}

/**
 * Downloads `options.name`. See the module documentation.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { downloadFile } from "ferry-transport/files";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = { host: "127.0.0.1", port: 7337 };
 * const connections = await Promise.all(
 *   [1, 2, 3].map(() => TransportClient.connect(tcpConnect(address))),
 * );
 * let bytes = new Uint8Array(0);
 * const result = await downloadFile({
 *   name: "dataset.bin",
 *   connections,
 *   writeOrder: "arrival", // a positional sink: no chunk waits for a slower one
 *   onOpen: (file) => void (bytes = new Uint8Array(file.size)),
 *   write: (chunk, _index, offset) => bytes.set(chunk, offset),
 *   timeoutMs: 600_000,
 * });
 * console.log(`${result.file.size} bytes, SHA-256 ${result.sha256}, ${result.elapsedMs} ms`);
 * await Promise.all(connections.map((client) => client.close()));
 * ```
 */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadResult> {
  const started = Date.now();
  const connections = options.connections;
  if (!Array.isArray(connections) || connections.length === 0) {
    throw new InvalidArgumentError("downloadFile: connections must be a non-empty array");
  }
  const inFlight = bounded(options.inFlight ?? 16, "inFlight", 1);
  const maxRetries = bounded(options.maxRetries ?? 3, "maxRetries", 0);
  const maxRefetches = bounded(options.maxRefetches ?? 3, "maxRefetches", 0);
  const maxWrites = bounded(options.maxWrites ?? 1, "maxWrites", 1);
  const chunkTimeoutMs = options.chunkTimeoutMs ?? 60_000;
  if (typeof options.write !== "function") {
    throw new InvalidArgumentError("downloadFile: write must be a function");
  }
  const controller = new AbortController();
  const signal = controller.signal;
  const disposeDeadline = watchDeadline(
    options,
    `Downloading ${options.name}`,
    (error) => controller.abort(error),
  );
  const opened: { client: FileTransferClient; file: OpenedFile }[] = [];
  try {
    const callOptions = { timeoutMs: chunkTimeoutMs, signal };
    const files = await Promise.all(connections.map(async (client) => {
      const file = await serviceClient(fileService, client).open(
        { name: options.name },
        callOptions,
      );
      opened.push({ client, file });
      return file;
    }));
    const file = describe(files[0]!);
    if (file.name !== options.name) {
      throw new FileChangedError(
        `Asked for ${JSON.stringify(options.name)}, the server opened ` +
          JSON.stringify(file.name.slice(0, 80)),
      );
    }
    for (const other of files) assertSame(file, describe(other), "another connection");
    if (options.expect !== undefined) assertSame(file, options.expect, "the partial download");
    const verify = options.verify ?? true;
    const digests = verify
      ? await chunkDigests(connections[0]!, files[0]!, callOptions)
      : undefined;
    await options.onOpen?.(file);
    const hashChunk = options.hashChunk ?? defaultChunkHasher();
    const done = new Set<number>();
    const candidates = new Set<number>(options.written ?? []);
    for (let i = 0; i < Math.min(options.startChunk ?? 0, file.chunkCount); i++) candidates.add(i);
    if (candidates.size > 0 && (digests !== undefined || !verify)) {
      await keepWrittenChunks(
        file,
        candidates,
        done,
        digests?.chunks,
        hashChunk,
        options.readWritten,
        signal,
      );
    }
    options.onResumeChecked?.(done, candidates.size - done.size);
    const counts: TransferCounts = {
      chunksFetched: 0,
      bytesFetched: 0,
      retries: 0,
      badChunks: 0,
      inFlight: 0,
    };
    const chunksKept = done.size;
    let bytesWritten = 0;
    for (const index of done) bytesWritten += chunkLength(file, index);
    const lanes: Lane[] = files.map((opened, i) => ({
      index: i,
      client: connections[i]!,
      streamId: opened.streamId,
      inFlight: 0,
      alive: true,
    }));
    const todo: number[] = [];
    for (let i = 0; i < file.chunkCount; i++) if (!done.has(i)) todo.push(i);
    await transferChunks({
      file,
      lanes,
      todo,
      maxInFlight: inFlight,
      maxRetries,
      maxRefetches,
      timeoutMs: chunkTimeoutMs,
      signal,
      digests: digests?.chunks,
      hashChunk,
      write: options.write,
      writeOrder: options.writeOrder ?? "index",
      maxWrites,
      lend: options.lendChunks ?? false,
      onFetched: (index, length, lane) => options.onChunkFetched?.(index, length, lane),
      onWritten: (index, length) => {
        done.add(index);
        bytesWritten += length;
        options.onChunkWritten?.(index);
        options.onProgress?.({
          file,
          chunksWritten: done.size,
          bytesWritten,
          chunksFetched: counts.chunksFetched,
          bytesFetched: counts.bytesFetched,
          inFlight: counts.inFlight,
          elapsedMs: Date.now() - started,
        });
      },
    }, counts);
    let sha256: string | undefined;
    if (digests !== undefined) sha256 = digests.sha256;
    else if (verify) {
      sha256 = await hashWrittenFile(file, options.readWritten, options.createHash, signal);
    }
    return {
      file,
      sha256,
      chunkDigests: digests !== undefined,
      chunksFetched: counts.chunksFetched,
      bytesFetched: counts.bytesFetched,
      chunksKept,
      badChunks: counts.badChunks,
      retries: counts.retries,
      elapsedMs: Date.now() - started,
    };
  } finally {
    disposeDeadline();
    controller.abort(new Error("download finished"));
    for (const { client, file } of opened) {
      if (client.isActive === false) continue;
      serviceClient(fileService, client).release({ streamId: file.streamId }, { timeoutMs: 5_000 })
        .catch(() => {});
    }
  }
}

/** The opened version's chunk digests, or undefined from a server without the method. */
async function chunkDigests(
  client: FileTransferClient,
  file: OpenedFile,
  callOptions: { timeoutMs: number; signal: AbortSignal },
): Promise<ChunkDigests | undefined> {
  let digests: ChunkDigests;
  try {
    digests = await serviceClient(fileService, client).digests(
      { streamId: file.streamId },
      callOptions,
    );
  } catch (error) {
    if (error instanceof RemoteError && error.remoteCode === RpcErrorCode.UnknownMethod) {
      return undefined;
    }
    throw error;
  }
  if (digests.sha256 !== file.sha256) {
    throw new FileChangedError(
      `${file.name} changed: it opened as SHA-256 ${file.sha256}, its digests are of ` +
        digests.sha256,
    );
  }
  if (digests.chunks.byteLength !== file.chunkCount * CHUNK_DIGEST_LENGTH) {
    throw new FileChangedError(
      `${file.name}: ${digests.chunks.byteLength} bytes of chunk digests for ${file.chunkCount} ` +
        `chunks (expected ${file.chunkCount * CHUNK_DIGEST_LENGTH})`,
    );
  }
  return digests;
}

function describe(file: FileInfo): FileInfo {
  const { name, size, chunkSize, chunkCount, sha256 } = file;
  return { name, size, chunkSize, chunkCount, sha256 };
}

function assertSame(
  file: FileInfo,
  other: Pick<FileInfo, "size" | "chunkSize" | "chunkCount" | "sha256">,
  what: string,
): void {
  for (const key of ["size", "chunkSize", "chunkCount", "sha256"] as const) {
    if (file[key] !== other[key]) {
      throw new FileChangedError(
        `${file.name} changed: its ${key} is ${file[key]}, but ${what} has ${other[key]}`,
      );
    }
  }
}

function bounded(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > 4096) {
    throw new InvalidArgumentError(
      `downloadFile: ${name} must be an integer in [${min}, 4096], got ${String(value)}`,
    );
  }
  return value;
}
