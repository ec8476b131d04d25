/**
 * One download through the gateway: leases `connections` exclusive sessions from the page's pool,
 * runs the file layer's `downloadFile` over them (N chunks in flight, dispatched to the least busy
 * session, I/O failures retried on another, each chunk verified against the SHA-256 the service
 * announced for it with WebCrypto as it arrives and refetched when damaged), assembles the file in
 * one buffer at the chunks' offsets, and checks the whole file's SHA-256 too.
 *
 * Each session's client is wrapped so that every chunk request is reported to a
 * {@linkcode ChunkObserver} (in flight, fetched, failed): that is what the chunk map and the
 * throughput chart show.
 *
 * @module
 */

import {
  ChecksumMismatchError,
  downloadFile,
  type DownloadProgress,
  type DownloadResult,
  type FileInfo,
  type FileTransferClient,
  type PoolLease,
  type TransportClient,
} from "../../src/mod.ts";
import type { FileDigest } from "./file-digest.ts";
import { sha256Of } from "./file-digest.ts";
import type { GatewayFiles } from "./gateway-files.ts";

/** Told about every chunk request of a download. */
export interface ChunkObserver {
  /** The file is open: `file.chunkCount` chunks to fetch. */
  opened(file: FileInfo, sessions: readonly string[]): void;
  requested(index: number): void;
  fetched(index: number, bytes: number): void;
  failed(index: number, error: unknown): void;
  /** The request was given up (the download was cancelled or ended): the chunk is not here. */
  abandoned(index: number): void;
  /** `progress.chunksWritten` chunks are verified and in the file (any order). */
  progress(progress: DownloadProgress): void;
  /** The whole file is here; hashing it now. */
  verifying(): void;
}

export interface GatewayDownloadOptions {
  readonly files: GatewayFiles;
  readonly name: string;
  readonly connections: number;
  readonly inFlight: number;
  readonly observer: ChunkObserver;
  readonly signal: AbortSignal;
}

export interface CompletedDownload {
  readonly file: FileInfo;
  /** The whole file. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** SHA-256 computed here; equal to `file.sha256` (otherwise the download failed). */
  readonly digest: FileDigest;
  readonly result: DownloadResult;
}

/** Downloads `options.name`; rejects with `ChecksumMismatchError` when the bytes are not the file. */
export async function downloadThroughGateway(
  options: GatewayDownloadOptions,
): Promise<CompletedDownload> {
  const { files, observer, signal } = options;
  const leases: PoolLease<TransportClient>[] = [];
  try {
    const settled = await Promise.allSettled(
      Array.from({ length: options.connections }, () => files.pool.lease(files.route, { signal })),
    );
    for (const outcome of settled) if (outcome.status === "fulfilled") leases.push(outcome.value);
    const refused = settled.find((outcome) => outcome.status === "rejected");
    if (refused !== undefined) throw (refused as PromiseRejectedResult).reason;

    let buffer: Uint8Array<ArrayBuffer> | undefined;
    const result = await downloadFile({
      name: options.name,
      connections: leases.map((lease) => observed(lease.client, observer)),
      inFlight: options.inFlight,
      signal,
      // Each chunk is checked against the server's digest as it arrives (one WebCrypto digest per
      // chunk, off the page's thread); a damaged one is fetched again. The whole file is hashed
      // once more below for the summary.
      onOpen: (file) => {
        buffer = new Uint8Array(file.size);
        observer.opened(file, leases.map((lease) => lease.client.remoteAddress));
      },
      write: (chunk, _index, offset) => {
        buffer!.set(chunk, offset);
      },
      onProgress: (progress) => observer.progress(progress),
    });
    observer.verifying();
    const bytes = buffer ?? new Uint8Array(0);
    const digest = await sha256Of(bytes);
    if (digest.hex !== result.file.sha256) {
      throw new ChecksumMismatchError(result.file.name, result.file.sha256, digest.hex);
    }
    return { file: result.file, bytes, digest, result };
  } finally {
    for (const lease of leases) lease.release(lease.client.isActive);
  }
}

/** `client`, reporting each chunk request to `observer`. */
function observed(client: TransportClient, observer: ChunkObserver): FileTransferClient {
  return {
    get isActive() {
      return client.isActive;
    },
    get remoteAddress() {
      return client.remoteAddress;
    },
    sendRpc: (body, callOptions) => client.sendRpc(body, callOptions),
    fetchChunk: (streamId, index, callOptions) => {
      observer.requested(index);
      return client.fetchChunk(streamId, index, callOptions).then(
        (bytes) => {
          observer.fetched(index, bytes.byteLength);
          return bytes;
        },
        (error: unknown) => {
          if (callOptions?.signal?.aborted) observer.abandoned(index);
          else observer.failed(index, error);
          throw error;
        },
      );
    },
  };
}
