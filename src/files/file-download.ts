/**
 * `downloadFile`: fetches a file from the file service with N chunks in flight across several
 * connections, writes it in order, verifies its SHA-256 over the whole file, and resumes from
 * chunk N.
 *
 * Each connection opens the file itself (a stream id belongs to the connection that opened it);
 * chunks are dispatched in index order to the connection with the fewest in flight, written in
 * index order (out-of-order arrivals wait in a reorder window of at most `2 × inFlight` chunks,
 * so memory stays bounded when one chunk is slow), and hashed as they are written. A chunk that
 * fails with an I/O error (connection closed, timeout) is retried on another live connection up
 * to `maxRetries` times; a remote failure, a wrong-length chunk or a failed write fails the
 * download. Whatever was written before a failure or abort is a valid prefix of the file:
 * `progress.chunksWritten` chunks, so a later call resumes with `startChunk` set to it.
 *
 * @module
 */

import { type CallOptions, watchDeadline } from "../deadline.ts";
import { ConnectionClosedError, InvalidArgumentError } from "../errors.ts";
import { isRetryableIoError } from "../pool/retrying-chunk-fetcher.ts";
import type { Int64 } from "../protocol/messages.ts";
import { type RpcTarget, serviceClient } from "../rpc/service-client.ts";
import { Sha256, toHex } from "../checksum/sha256.ts";
import { ChecksumMismatchError, FileChangedError } from "./file-errors.ts";
import { type FileInfo, fileService, type OpenedFile } from "./file-service.ts";

/** A connection a file can be fetched over (a `TransportClient`, a lease's client). */
export interface FileTransferClient extends RpcTarget {
  fetchChunk(streamId: Int64, chunkIndex: number, options?: CallOptions): Promise<Uint8Array>;
  readonly isActive?: boolean;
}

/** An incremental hash (the default is Ferry's `Sha256`; Node's `createHash("sha256")` fits). */
export interface IncrementalHash {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}

/** Where a download stands. */
export interface DownloadProgress {
  readonly file: FileInfo;
  /** Chunks `0 … chunksWritten − 1` are written (a resumable prefix). */
  readonly chunksWritten: number;
  readonly bytesWritten: number;
  /** Chunks and bytes fetched by this call (excludes a resumed prefix). */
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
  /** Writes chunk `index` at byte `offset`; called in index order, one at a time. */
  readonly write: (chunk: Uint8Array, index: number, offset: number) => void | Promise<void>;
  /** Resume: chunks before this are already written (default 0). */
  readonly startChunk?: number;
  /** Reads back an already written chunk, to hash the resumed prefix (required to verify it). */
  readonly readWritten?: (index: number, length: number) => Uint8Array | Promise<Uint8Array>;
  /** Resume: the file must still have this size, chunking and SHA-256. */
  readonly expect?: Pick<FileInfo, "size" | "chunkSize" | "chunkCount" | "sha256">;
  /** Verify the SHA-256 of the whole file (default true). */
  readonly verify?: boolean;
  /** The hash used to verify (default Ferry's `Sha256`). */
  readonly createHash?: () => IncrementalHash;
  /** Called once the file is open, before any chunk is fetched (record it for a resume). */
  readonly onOpen?: (file: FileInfo) => void | Promise<void>;
  /** Called after each written chunk. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  /**
   * Called when chunk `index` arrived (in arrival order, before it is written), with the index of
   * the connection in `connections` that fetched it — e.g. for a chunk map.
   */
  readonly onChunkFetched?: (index: number, byteLength: number, connection: number) => void;
  /** Deadline of one chunk fetch and of the open call (default 60 000 ms). */
  readonly chunkTimeoutMs?: number;
  /** Times a chunk failing with an I/O error is retried on another connection (default 3). */
  readonly maxRetries?: number;
}

export interface DownloadResult {
  readonly file: FileInfo;
  /** SHA-256 computed over the whole file (undefined when `verify` was false). */
  readonly sha256: string | undefined;
  readonly chunksFetched: number;
  readonly bytesFetched: number;
  readonly retries: number;
  readonly elapsedMs: number;
}

interface Lane {
  readonly index: number;
  readonly client: FileTransferClient;
  readonly streamId: bigint;
  inFlight: number;
  alive: boolean;
}

/** Downloads `options.name`. See the module documentation. */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadResult> {
  const started = Date.now();
  const connections = options.connections;
  if (!Array.isArray(connections) || connections.length === 0) {
    throw new InvalidArgumentError("downloadFile: connections must be a non-empty array");
  }
  const inFlight = positive(options.inFlight ?? 16, "inFlight");
  const maxRetries = options.maxRetries ?? 3;
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
    for (const other of files) assertSame(file, describe(other), "another connection");
    if (options.expect !== undefined) assertSame(file, options.expect, "the partial download");
    await options.onOpen?.(file);
    const lanes: Lane[] = files.map((opened, i) => ({
      index: i,
      client: connections[i]!,
      streamId: opened.streamId,
      inFlight: 0,
      alive: true,
    }));
    return await transfer(file, lanes, options, inFlight, maxRetries, callOptions, started);
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

async function transfer(
  file: FileInfo,
  lanes: Lane[],
  options: DownloadFileOptions,
  maxInFlight: number,
  maxRetries: number,
  callOptions: { timeoutMs: number; signal: AbortSignal },
  started: number,
): Promise<DownloadResult> {
  const { chunkCount, chunkSize, size } = file;
  const startChunk = options.startChunk ?? 0;
  if (!Number.isSafeInteger(startChunk) || startChunk < 0 || startChunk > chunkCount) {
    throw new InvalidArgumentError(
      `downloadFile: startChunk must be an integer in [0, ${chunkCount}], got ${startChunk}`,
    );
  }
  const verify = options.verify ?? true;
  const hash = verify ? (options.createHash ?? (() => new Sha256()))() : undefined;
  const lengthOf = (index: number) =>
    index < chunkCount - 1 ? chunkSize : size - chunkSize * (chunkCount - 1);
  if (hash !== undefined && startChunk > 0) {
    if (options.readWritten === undefined) {
      throw new InvalidArgumentError(
        "downloadFile: resuming with verify needs readWritten to hash the chunks already written",
      );
    }
    for (let index = 0; index < startChunk; index++) {
      callOptions.signal.throwIfAborted();
      const bytes = await options.readWritten(index, lengthOf(index));
      if (bytes.byteLength !== lengthOf(index)) {
        throw new FileChangedError(
          `Cannot resume ${file.name}: written chunk ${index} has ${bytes.byteLength} bytes, ` +
            `expected ${lengthOf(index)}`,
        );
      }
      hash.update(bytes);
    }
  }

  const window = Math.max(2 * maxInFlight, maxInFlight + lanes.length);
  const fetchOptions = { timeoutMs: callOptions.timeoutMs };
  const ready = new Map<number, Uint8Array>();
  const retryQueue: number[] = [];
  const attempts = new Map<number, number>();
  let nextDispatch = startChunk;
  let nextWrite = startChunk;
  let inFlight = 0;
  let chunksFetched = 0;
  let bytesFetched = 0;
  let retries = 0;
  let writing = false;
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let failed = false;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    settle.reject(error);
  };
  const onAbort = () => fail(callOptions.signal.reason);
  callOptions.signal.addEventListener("abort", onAbort, { once: true });

  const pickLane = (): Lane | undefined => {
    let best: Lane | undefined;
    for (const lane of lanes) {
      if (lane.alive && (best === undefined || lane.inFlight < best.inFlight)) best = lane;
    }
    return best;
  };

  const fetchOne = (index: number, lane: Lane) => {
    inFlight++;
    lane.inFlight++;
    // Only the deadline goes to each fetch: one abort listener per chunk on the shared signal
    // would pile up (Node warns past 10). A fetch still in flight when the download stops is
    // ignored; its connection's owner closes or reuses it.
    lane.client.fetchChunk(lane.streamId, index, fetchOptions).then((bytes) => {
      inFlight--;
      lane.inFlight--;
      if (failed) return;
      if (bytes.byteLength !== lengthOf(index)) {
        fail(
          new FileChangedError(
            `Chunk ${index} of ${file.name} has ${bytes.byteLength} bytes, expected ${
              lengthOf(index)
            }`,
          ),
        );
        return;
      }
      chunksFetched++;
      bytesFetched += bytes.byteLength;
      ready.set(index, bytes);
      try {
        options.onChunkFetched?.(index, bytes.byteLength, lane.index);
      } catch (error) {
        fail(error);
        return;
      }
      drain();
    }, (error) => {
      inFlight--;
      lane.inFlight--;
      if (failed) return;
      if (lane.client.isActive === false) lane.alive = false;
      const tried = (attempts.get(index) ?? 0) + 1;
      attempts.set(index, tried);
      if (!isRetryableIoError(error) || tried > maxRetries || pickLane() === undefined) {
        fail(error);
        return;
      }
      retries++;
      retryQueue.push(index);
      pump();
    });
  };

  const pump = () => {
    while (!failed && inFlight < maxInFlight) {
      let index: number;
      if (retryQueue.length > 0) index = retryQueue.shift()!;
      else if (nextDispatch < chunkCount && nextDispatch < nextWrite + window) {
        index = nextDispatch++;
      } else return;
      const lane = pickLane();
      if (lane === undefined) {
        fail(new ConnectionClosedError(`Downloading ${file.name}: no open connection left`));
        return;
      }
      fetchOne(index, lane);
    }
  };

  const drain = () => {
    if (writing || failed) return;
    writing = true;
    (async () => {
      while (!failed && ready.has(nextWrite)) {
        const index = nextWrite;
        const bytes = ready.get(index)!;
        ready.delete(index);
        hash?.update(bytes);
        await options.write(bytes, index, index * chunkSize);
        nextWrite = index + 1;
        options.onProgress?.(progress());
        pump();
      }
      writing = false;
      if (!failed && nextWrite === chunkCount) settle.resolve();
    })().catch((error) => {
      writing = false;
      fail(error);
    });
  };

  const progress = (): DownloadProgress => ({
    file,
    chunksWritten: nextWrite,
    bytesWritten: Math.min(size, nextWrite * chunkSize),
    chunksFetched,
    bytesFetched,
    inFlight,
    elapsedMs: Date.now() - started,
  });

  try {
    if (startChunk === chunkCount) settle.resolve();
    else pump();
    await done;
  } finally {
    callOptions.signal.removeEventListener("abort", onAbort);
  }
  let actual: string | undefined;
  if (hash !== undefined) {
    actual = toHex(hash.digest());
    if (actual !== file.sha256) throw new ChecksumMismatchError(file.name, file.sha256, actual);
  }
  return {
    file,
    sha256: actual,
    chunksFetched,
    bytesFetched,
    retries,
    elapsedMs: Date.now() - started,
  };
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

function positive(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > 4096) {
    throw new InvalidArgumentError(
      `downloadFile: ${name} must be an integer in [1, 4096], got ${String(value)}`,
    );
  }
  return value;
}
