/**
 * The file service's catalog over a folder (node:fs; Deno runs it too): the regular, non-hidden
 * files directly in the folder, and nothing else.
 *
 * - A symlink is served only when it resolves to a regular file inside the folder (or with
 *   `followSymlinks`); one leaving the folder, a dangling one, a directory, a device or an entry
 *   that cannot be read is skipped (the first and the last two with a warning), and serving starts.
 * - Each file is opened with `O_NOFOLLOW` and checked with `fstat` to be a regular file, so a name
 *   swapped for a symlink after the scan is refused rather than followed.
 * - Digests (per chunk and whole, `digest-cache.ts`) are computed when the folder is scanned and
 *   tied to the file's identity (device, inode, size, mtime, ctime): every `open` compares the
 *   file's identity now with the hashed one, and a changed file is hashed again before it is
 *   served — an in-place overwrite that keeps size and mtime included.
 * - Opens share descriptors: one refcounted handle per file identity, closed when the last stream
 *   on it is released, so N streams of one file hold one descriptor, not N (a peer opening a file
 *   20 000 times cannot exhaust the process's descriptors). Opens of one name are serialized, so a
 *   burst of them stats the file once each and opens or hashes it at most once.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { constants } from "node:fs";
import { type FileHandle, lstat, open, readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { describeError } from "../src/errors.ts";
import { giveBackRelayed, RelayBufferPool } from "../src/gateway/relay-buffer-pool.ts";
import {
  type CatalogFile,
  checkChunkCount,
  checkChunkSize,
  type FileCatalog,
} from "../src/files/file-catalog.ts";
import { checkFileName, type ChunkDigests, type FileInfo } from "../src/files/file-service.ts";
import {
  DigestCache,
  type FileIdentity,
  hashHandle,
  identityOf,
  sameIdentity,
} from "./digest-cache.ts";

/**
 * The chunk size `ferry serve` cuts files into (`--chunk-size`, and {@linkcode folderCatalog}'s
 * default): 768 KiB, not the library's 1 MiB (`DEFAULT_CHUNK_SIZE`), for browsers. Chromium
 * allocates through PartitionAlloc, whose largest bucket holds 960 KiB: a larger block is mapped
 * fresh from the kernel for every allocation and unmapped when freed, so each of its pages costs a
 * page fault every time, while a freed bucketed block is reused as it is. The web demo's worker
 * hands each chunk to WebCrypto, which copies it: at 1 MiB that copy faulted in 256 fresh pages
 * per chunk; at 768 KiB (below the largest bucket even with PartitionAlloc's per-slot extras, and
 * in builds with 4 buckets per order, whose largest is 896 KiB) it reuses the last chunk's memory.
 * In the `web-demo-vs-fetch` bench (7 alternating rounds, same run) that halved the renderer's page
 * faults per 256 MiB (136k → 69k) and cut Chromium's CPU per download from 1.52 to 1.27 s. Node
 * clients do not lose: `ferry get` over TCP took the same time and CPU, and through the gateway its
 * system time per 256 MiB fell from 0.32–0.57 to 0.18–0.22 s. (The WebSocket message each chunk
 * arrives in stays fresh memory at any size, even detached at once with `transfer(0)`: Blink's own
 * reference to it lives until a garbage collection.)
 */
export const SERVE_CHUNK_SIZE = 768 * 1024;

export interface FolderCatalogOptions {
  /** Default {@linkcode SERVE_CHUNK_SIZE}. */
  readonly chunkSize?: number;
  /** Per-user cache directory for digests (default: none, hash on every start). */
  readonly cacheDir?: string;
  /** Serve symlinks that leave the folder too (default false: they are skipped). */
  readonly followSymlinks?: boolean;
  /** Hears about files being hashed (default: silent). */
  readonly log?: (line: string) => void;
  /** Hears about entries skipped (default: `log`). */
  readonly warn?: (line: string) => void;
}

/** One version of one file: its handle is shared by every stream opened on it. */
interface Version {
  readonly info: FileInfo;
  readonly digests: ChunkDigests;
  readonly identity: FileIdentity;
  handle: FileHandle | undefined;
  refs: number;
}

interface Entry {
  readonly name: string;
  /** The path opened (a symlink inside the folder is replaced by its target). */
  readonly path: string;
  current: Version;
  /** Serializes opens of this name. */
  lock: Promise<unknown>;
}

/** What the catalog tracks, for tests: handles open now. */
export interface FolderCatalog extends FileCatalog {
  readonly dir: string;
  readonly openHandles: () => number;
}

/**
 * Chunk buffers kept for reuse (`RelayBufferPool`) while no download is under way: what an idle
 * `ferry serve` holds for them at most, however many connections came and went. Buffers in use
 * are not the pool's: they are the chunks being read or written, which the server's reply memory
 * (`maxReplyBytes`) and each connection's write hard cap already bound.
 */
const CHUNK_BUFFERS_KEPT_BYTES = 16 * 1024 * 1024;

/**
 * Never through a final symlink, and never blocking: a name swapped for a FIFO would otherwise hold
 * a thread-pool thread until some writer opened it (fstat then refuses it as not a regular file).
 */
const NOFOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Scans `dir` and returns its catalog. @throws when the folder itself cannot be read. */
export async function folderCatalog(
  dir: string,
  options: FolderCatalogOptions = {},
): Promise<FolderCatalog> {
  const chunkSize = checkChunkSize(options.chunkSize ?? SERVE_CHUNK_SIZE, "folderCatalog");
  const chunkBuffers = new RelayBufferPool(
    chunkSize,
    Math.max(1, Math.floor(CHUNK_BUFFERS_KEPT_BYTES / chunkSize)),
    (size) => Buffer.allocUnsafeSlow(size),
  );
  const log = options.log ?? (() => {});
  const warn = options.warn ?? log;
  const cache = new DigestCache(options.cacheDir, warn);
  const root = await realpath(dir);
  const entries = new Map<string, Entry>();
  let handles = 0;

  /** Opens `path` without following a final symlink; hashes it unless `known` still holds. */
  const load = async (name: string, path: string, known: Version | undefined) => {
    const handle = await open(path, NOFOLLOW);
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) throw new Error(`${name} is not a regular file`);
      const identity = identityOf(stats);
      checkChunkCount(name, identity.size, chunkSize);
      if (known !== undefined && sameIdentity(known.identity, identity)) {
        return { handle, version: known };
      }
      let digests = cache.get(identity, chunkSize);
      if (digests === undefined) {
        if (identity.size >= 16 << 20) log(`hashing ${name} (${identity.size} bytes) ...`);
        digests = await hashHandle(handle, identity.size, chunkSize);
        const after = identityOf(await handle.stat({ bigint: true }));
        if (!sameIdentity(identity, after)) throw new Error(`${name} changed while it was hashed`);
        cache.set(identity, chunkSize, digests);
      }
      const info: FileInfo = {
        name,
        size: identity.size,
        chunkSize,
        chunkCount: Math.ceil(identity.size / chunkSize),
        sha256: digests.sha256,
      };
      const version: Version = { info, digests, identity, handle: undefined, refs: 0 };
      return { handle, version };
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
  };

  const names = (await readdir(root)).filter((name) => !name.startsWith(".")).sort();
  for (const name of names) {
    try {
      checkFileName(name);
    } catch {
      continue;
    }
    let path = join(root, name);
    try {
      const link = await lstat(path);
      if (link.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(path);
        } catch (error) {
          warn(`skipping ${name}: a symlink to nothing (${describeError(error)})`);
          continue;
        }
        if (!target.startsWith(root + sep) && !options.followSymlinks) {
          warn(`skipping ${name}: a symlink leaving ${root} (--follow-symlinks serves it)`);
          continue;
        }
        if (!(await stat(target)).isFile()) continue;
        path = target;
      } else if (!link.isFile()) continue;
      const { handle, version } = await load(name, path, undefined);
      await handle.close();
      entries.set(name, { name, path, current: version, lock: Promise.resolve() });
    } catch (error) {
      warn(`skipping ${name}: ${describeError(error)}`);
    }
  }

  const release = (version: Version) => {
    version.refs--;
    if (version.refs > 0 || version.handle === undefined) return;
    const handle = version.handle;
    version.handle = undefined;
    handles--;
    handle.close().catch(() => {});
  };

  const openEntry = async (entry: Entry): Promise<CatalogFile> => {
    const current = entry.current;
    let version: Version;
    if (current.handle !== undefined) {
      // Shared handle: the file behind the name must still be the version it was opened as.
      const now = identityOf(await stat(entry.path, { bigint: true }));
      if (sameIdentity(now, current.identity)) version = current;
      else version = await fresh(entry, current);
    } else version = await fresh(entry, current);
    version.refs++;
    return streamOn(version);
  };

  const fresh = async (entry: Entry, known: Version): Promise<Version> => {
    const { handle, version } = await load(entry.name, entry.path, known);
    if (version.handle !== undefined) {
      // `known` is still current and already open (raced with a stat): share it.
      await handle.close();
      return version;
    }
    version.handle = handle;
    handles++;
    entry.current = version;
    return version;
  };

  const streamOn = (version: Version): CatalogFile => {
    const { info, digests } = version;
    const handle = version.handle!;
    let closed = false;
    return {
      info,
      digests,
      source: {
        chunkCount: info.chunkCount,
        getChunk: async (index) => {
          if (closed) throw new Error(`${info.name}: the stream was released`);
          const offset = index * chunkSize;
          const length = Math.min(chunkSize, info.size - offset);
          // Every byte is read into it before it leaves: no need to zero-fill 1 MiB per chunk.
          // Lent: it comes back through `recycle` once a TCP socket has written it, or from the
          // gateway once a browser's socket has sent it; otherwise the garbage collector takes it.
          const bytes = chunkBuffers.take(length);
          let filled = 0;
          while (filled < length) {
            const { bytesRead } = await handle.read(
              bytes,
              filled,
              length - filled,
              offset + filled,
            );
            if (bytesRead === 0) {
              throw new Error(
                `${info.name} ended at byte ${offset + filled}, expected ${info.size}`,
              );
            }
            filled += bytesRead;
          }
          return bytes;
        },
        // Given back at most once per lending (the pool checks), and only when the socket's OS
        // write has completed: the next chunk is read into memory no one reads any more.
        recycle: giveBackRelayed,
        close: () => {
          if (closed) return;
          closed = true;
          release(version);
        },
      },
    };
  };

  return {
    dir: root,
    openHandles: () => handles,
    list: () => [...entries.values()].map((entry) => entry.current.info),
    open: (name) => {
      const entry = entries.get(name);
      if (entry === undefined) return undefined;
      const opened = entry.lock.then(() => openEntry(entry));
      entry.lock = opened.catch(() => {});
      return opened;
    },
  };
}
