/**
 * The SHA-256 digests of a served file (per chunk and whole), computed in one pass over an open
 * file handle and cached on disk by file identity, so a restart of `ferry serve` does not rehash
 * 256 MiB — and so a file that changed in any way is hashed again.
 *
 * A file's identity is (device, inode, size, mtime, ctime) at nanosecond precision: an in-place
 * overwrite that restores the size and mtime still moves ctime, which the user cannot set back.
 * The cache lives in a per-user cache directory (`$XDG_CACHE_HOME/ferry`, else `~/.cache/ferry`),
 * one small JSON file per (device, inode, chunk size), written atomically — never beside the
 * served files or in the current directory. A missing, unreadable or foreign entry is a miss.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { CHUNK_DIGEST_LENGTH, type ChunkDigests } from "../src/files/file-service.ts";

/** What identifies one version of a file's bytes. */
export interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

export function identityOf(stats: BigIntStats): FileIdentity {
  return {
    dev: String(stats.dev),
    ino: String(stats.ino),
    size: Number(stats.size),
    mtimeNs: String(stats.mtimeNs),
    ctimeNs: String(stats.ctimeNs),
  };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs;
}

/** The per-user cache directory of Ferry (`$XDG_CACHE_HOME/ferry`, else `~/.cache/ferry`). */
export function userCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg.startsWith("/") ? xdg : join(homedir(), ".cache"), "ferry");
}

/** Reads `size` bytes of `handle` in blocks of whole chunks and digests each chunk and the file. */
export async function hashHandle(
  handle: FileHandle,
  size: number,
  chunkSize: number,
): Promise<ChunkDigests> {
  const chunkCount = Math.ceil(size / chunkSize);
  const chunks = new Uint8Array(chunkCount * CHUNK_DIGEST_LENGTH);
  const whole = createHash("sha256");
  // Several small chunks per read (a read per 1-byte chunk would crawl), at least one chunk.
  const perBlock = Math.max(1, Math.floor((4 << 20) / chunkSize));
  const block = new Uint8Array(Math.min(size, perBlock * chunkSize));
  for (let first = 0; first < chunkCount; first += perBlock) {
    const offset = first * chunkSize;
    const length = Math.min(block.byteLength, size - offset);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(block, filled, length - filled, offset + filled);
      if (bytesRead === 0) throw new Error(`ended at byte ${offset + filled}, expected ${size}`);
      filled += bytesRead;
    }
    const bytes = block.subarray(0, length);
    whole.update(bytes);
    for (let at = 0, i = first; at < length; at += chunkSize, i++) {
      const digest = createHash("sha256").update(bytes.subarray(at, at + chunkSize)).digest();
      chunks.set(digest, i * CHUNK_DIGEST_LENGTH);
    }
  }
  return { sha256: whole.digest("hex"), chunks };
}

interface CacheRecord extends FileIdentity {
  readonly version: 1;
  readonly chunkSize: number;
  readonly sha256: string;
  readonly chunks: string;
}

/** Cached digests by file identity, in `dir` (undefined: no cache). */
export class DigestCache {
  readonly dir: string | undefined;
  readonly #warn: (line: string) => void;
  #warned = false;

  constructor(dir: string | undefined, warn: (line: string) => void = () => {}) {
    this.dir = dir;
    this.#warn = warn;
  }

  #path(identity: FileIdentity, chunkSize: number): string {
    const key = createHash("sha256").update(`${identity.dev}:${identity.ino}:${chunkSize}`)
      .digest("hex").slice(0, 32);
    return join(this.dir!, "digests", `${key}.json`);
  }

  get(identity: FileIdentity, chunkSize: number): ChunkDigests | undefined {
    if (this.dir === undefined) return undefined;
    try {
      const r = JSON.parse(readFileSync(this.#path(identity, chunkSize), "utf8")) as CacheRecord;
      const chunkCount = Math.ceil(identity.size / chunkSize);
      if (
        r.version !== 1 || r.chunkSize !== chunkSize || !sameIdentity(r, identity) ||
        typeof r.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(r.sha256) ||
        typeof r.chunks !== "string" || r.chunks.length !== chunkCount * CHUNK_DIGEST_LENGTH * 2
      ) return undefined;
      const chunks = new Uint8Array(chunkCount * CHUNK_DIGEST_LENGTH);
      for (let i = 0; i < chunks.byteLength; i++) {
        chunks[i] = parseInt(r.chunks.slice(2 * i, 2 * i + 2), 16);
      }
      return { sha256: r.sha256, chunks };
    } catch {
      return undefined;
    }
  }

  set(identity: FileIdentity, chunkSize: number, digests: ChunkDigests): void {
    if (this.dir === undefined) return;
    const record: CacheRecord = {
      version: 1,
      ...identity,
      chunkSize,
      sha256: digests.sha256,
      chunks: Array.from(digests.chunks, (b) => b.toString(16).padStart(2, "0")).join(""),
    };
    const path = this.#path(identity, chunkSize);
    try {
      mkdirSync(join(this.dir, "digests"), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
      renameSync(temporary, path);
    } catch (error) {
      // A cache that cannot be written costs a rehash on the next start, nothing more.
      if (!this.#warned) this.#warn(`cannot write the digest cache in ${this.dir}: ${error}`);
      this.#warned = true;
    }
  }
}
