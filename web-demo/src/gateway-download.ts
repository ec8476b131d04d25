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

import type { TransportClient } from "../../src/mod.ts";
import type { PoolLease } from "../../src/pool/mod.ts";
import {
  defaultChunkHasher,
  downloadFile,
  type DownloadProgress,
  type DownloadResult,
  type FileInfo,
  type FileTransferClient,
} from "../../src/files/mod.ts";
import type { DownloadSink } from "./download-sink.ts";
import type { FileDigest } from "./file-digest.ts";
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

/** Optional: told which session fetched each chunk and when each chunk was hashed (timeline). */
export interface ChunkTimings {
  /** The download's sessions, leased (before any chunk is requested). */
  sessions(clients: readonly TransportClient[]): void;
  fetchedOn(index: number, session: number): void;
  /** Chunk `index`'s bytes were hashed from `start` to `end` (`performance.now()`). */
  hashed(index: number, start: number, end: number): void;
}

export interface GatewayDownloadOptions {
  readonly files: GatewayFiles;
  readonly name: string;
  readonly connections: number;
  readonly inFlight: number;
  readonly observer: ChunkObserver;
  readonly signal: AbortSignal;
  /** Where the chunks go (disk where the browser can). */
  readonly sink: DownloadSink;
  readonly timings?: ChunkTimings;
}

export interface CompletedDownload {
  readonly file: FileInfo;
  /** The file to offer for saving (undefined: already in the file the user picked). */
  readonly blob: Blob | undefined;
  /** The SHA-256 verified here, chunk by chunk, and what verified it in how long. */
  readonly digest: FileDigest;
  readonly result: DownloadResult;
}

/** Downloads `options.name`; rejects with `ChunkDigestMismatchError` when a chunk stays damaged. */
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

    // One WebCrypto digest per chunk (Ferry's Sha256 where WebCrypto is missing), timed: in the
    // sink's writer worker where it has one (the chunk then waits there for its write).
    const pageHasher = defaultChunkHasher();
    const sinkHash = options.sink.hash;
    const engine = globalThis.crypto?.subtle === undefined ? "Ferry Sha256" : "WebCrypto";
    let hashingMs = 0;
    const timings = options.timings;
    timings?.sessions(leases.map((lease) => lease.client));
    /** Which chunk each fetched buffer is (the hasher is given bytes only), for the timings. */
    const chunkOf = new WeakMap<Uint8Array, number>();
    const result = await downloadFile({
      name: options.name,
      connections: leases.map((lease, session) =>
        observed(lease.client, observer, timings, session, chunkOf)
      ),
      inFlight: options.inFlight,
      signal,
      hashChunk: async (bytes) => {
        const started = performance.now();
        const index = chunkOf.get(bytes);
        const digest = await (sinkHash !== undefined && index !== undefined
          ? sinkHash(bytes, index)
          : pageHasher(bytes));
        const ended = performance.now();
        hashingMs += ended - started;
        if (index !== undefined) {
          timings?.hashed(index, started, ended);
        }
        return digest;
      },
      onOpen: (file) => {
        observer.opened(
          file,
          leases.map((lease) =>
            lease.client.remoteAddress
          ),
        );
      },
      writeOrder: "arrival",
      write: (chunk, _index, offset) => options.sink.write(chunk, offset),
      onProgress: (progress) => observer.progress(progress),
    });
    observer.verifying();
    const blob = await options.sink.finish();
    const digest: FileDigest = { hex: result.sha256!, engine, elapsedMs: hashingMs };
    return { file: result.file, blob, digest, result };
  } finally {
    for (const lease of leases) lease.release(lease.client.isActive);
  }
}

/** `client`, reporting each chunk request to `observer`. */
function observed(
  client: TransportClient,
  observer: ChunkObserver,
  timings?: ChunkTimings,
  session = 0,
  chunkOf?: WeakMap<Uint8Array, number>,
): FileTransferClient {
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
          chunkOf?.set(bytes, index);
          timings?.fetchedOn(index, session);
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
