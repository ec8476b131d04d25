/**
 * The file service's catalog over a folder (node:fs; Deno runs it too): the regular, non-hidden
 * files directly in the folder, hashed once when the catalog is made (SHA-256 cached in a JSON
 * file keyed by name, size and mtime, so a restart does not rehash 256 MiB). Each `open` gets its
 * own file handle and reads chunks at their offsets; a file whose size or mtime changed since the
 * scan is refused rather than served with a stale checksum.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync, writeFileSync } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { checkChunkSize, DEFAULT_CHUNK_SIZE, type FileCatalog } from "../src/files/file-catalog.ts";
import { checkFileName, type FileInfo } from "../src/files/file-service.ts";

export interface FolderCatalogOptions {
  readonly chunkSize?: number;
  /** Where to cache SHA-256 digests (default: none). */
  readonly hashCacheFile?: string;
  /** Hears about files being hashed (default: silent). */
  readonly log?: (line: string) => void;
}

interface Entry {
  readonly info: FileInfo;
  readonly path: string;
  readonly mtimeMs: number;
}

type HashCache = Record<string, { size: number; mtimeMs: number; sha256: string }>;

/** Scans `dir` and returns its catalog. @throws when the folder cannot be read. */
export async function folderCatalog(
  dir: string,
  options: FolderCatalogOptions = {},
): Promise<FileCatalog & { readonly dir: string }> {
  const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE, "folderCatalog");
  const cache = readCache(options.hashCacheFile);
  const entries = new Map<string, Entry>();
  const names = (await readdir(dir)).filter((name) => !name.startsWith(".")).sort();
  for (const name of names) {
    try {
      checkFileName(name);
    } catch {
      continue;
    }
    const path = join(dir, name);
    const stats = await stat(path);
    if (!stats.isFile()) continue;
    const cached = cache[path];
    let sha256: string;
    if (cached?.size === stats.size && cached.mtimeMs === stats.mtimeMs) sha256 = cached.sha256;
    else {
      if (stats.size >= 16 << 20) options.log?.(`hashing ${name} (${stats.size} bytes) ...`);
      sha256 = await hashFile(path);
    }
    cache[path] = { size: stats.size, mtimeMs: stats.mtimeMs, sha256 };
    entries.set(name, {
      path,
      mtimeMs: stats.mtimeMs,
      info: {
        name,
        size: stats.size,
        chunkSize,
        chunkCount: Math.ceil(stats.size / chunkSize),
        sha256,
      },
    });
  }
  if (options.hashCacheFile !== undefined) {
    writeFileSync(options.hashCacheFile, JSON.stringify(cache, null, 1));
  }
  return {
    dir,
    list: () => [...entries.values()].map((entry) => entry.info),
    open: async (name) => {
      const entry = entries.get(name);
      if (entry === undefined) return undefined;
      const now = statSync(entry.path, { throwIfNoEntry: false });
      if (now === undefined || now.size !== entry.info.size || now.mtimeMs !== entry.mtimeMs) {
        throw new Error(
          `${name} changed on disk since the folder was scanned (restart ferry serve to rescan)`,
        );
      }
      const handle = await open(entry.path, "r");
      const { size } = entry.info;
      let closed = false;
      return {
        info: entry.info,
        source: {
          chunkCount: entry.info.chunkCount,
          getChunk: async (index) => {
            const offset = index * chunkSize;
            const length = Math.min(chunkSize, size - offset);
            const bytes = new Uint8Array(length);
            let filled = 0;
            while (filled < length) {
              const { bytesRead } = await handle.read(
                bytes,
                filled,
                length - filled,
                offset + filled,
              );
              if (bytesRead === 0) {
                throw new Error(`${name} ended at byte ${offset + filled}, expected ${size} bytes`);
              }
              filled += bytesRead;
            }
            return bytes;
          },
          close: () => {
            if (closed) return;
            closed = true;
            handle.close().catch(() => {});
          },
        },
      };
    },
  };
}

/** SHA-256 of a file, streamed (hex). */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

function readCache(file: string | undefined): HashCache {
  if (file === undefined) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8"));
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}
