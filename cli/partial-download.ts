/**
 * The partial file of an interrupted `ferry get`: `<out>.part` holds the chunks written so far, at
 * their offsets (any order), and `<out>.part.json` records which file they belong to (name, size,
 * chunk size and count, SHA-256) and a bitmap of the chunks written. The sidecar is rewritten at
 * most every 200 ms and when the download stops, always after the bytes it marks were written
 * (so it never claims a chunk the `.part` lacks; at worst it misses some, fetched again). While
 * chunks arrive it is written off the event loop (`fs/promises`, one save at a time): a rename
 * on a file system busy writing the `.part` back can wait for its journal for tens of
 * milliseconds, which the sockets must not wait for.
 *
 * The record is a hint, not a trust anchor: the next run reads back every chunk it marks and
 * checks it against the server's chunk digests, so a truncated or damaged `.part` is repaired. An
 * unreadable sidecar (or none beside a `.part`) is reported and every chunk the `.part` is long
 * enough to hold is checked instead. Version 1 records (a prefix count) are still read.
 *
 * @module
 */

import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { Buffer } from "node:buffer";
import type { FileInfo } from "../src/files/file-service.ts";

/** What an earlier run left: chunks to re-check, or why the record was not usable. */
export interface PartialState {
  /** The file the record names (undefined: no usable record). */
  readonly file: FileInfo | undefined;
  /** Chunks believed written, or "all" to check every chunk the `.part` can hold. */
  readonly chunks: readonly number[] | "all";
  /** Why the record was not usable (reported to the user), when it was not. */
  readonly problem: string | undefined;
}

interface Record2 {
  readonly version: 2;
  readonly name: string;
  readonly size: number;
  readonly chunkSize: number;
  readonly chunkCount: number;
  readonly sha256: string;
  /** Base64 bitmap, chunk i at bit (i & 7) of byte i >> 3. */
  readonly written: string;
}

export class PartialDownload {
  readonly partPath: string;
  readonly sidecarPath: string;
  #file: FileInfo | undefined;
  #bitmap = new Uint8Array(0);
  #count = 0;
  #savedAt = 0;
  #dirty = false;
  /** The save running off the event loop, if one is. */
  #saving: Promise<void> | undefined;
  /** Why the last background save failed (thrown by the next `record`). */
  #saveError: unknown;

  constructor(out: string) {
    this.partPath = `${out}.part`;
    this.sidecarPath = `${out}.part.json`;
  }

  /** Whether an earlier run left a `.part`. */
  exists(): boolean {
    return existsSync(this.partPath);
  }

  /** What an earlier run left (call when `exists()`). */
  load(): PartialState {
    if (!existsSync(this.sidecarPath)) {
      return { file: undefined, chunks: "all", problem: `${this.sidecarPath} is missing` };
    }
    try {
      const record = JSON.parse(readFileSync(this.sidecarPath, "utf8"));
      const file = checkRecordFile(record);
      if (record.version === 1 && Number.isSafeInteger(record.chunksWritten)) {
        const count = Math.min(record.chunksWritten, file.chunkCount);
        return {
          file,
          chunks: Array.from({ length: Math.max(0, count) }, (_, i) => i),
          problem: undefined,
        };
      }
      if (record.version !== 2 || typeof record.written !== "string") {
        throw new Error(`unknown version ${String(record.version).slice(0, 20)}`);
      }
      const bitmap = Buffer.from(record.written, "base64");
      const chunks: number[] = [];
      for (let i = 0; i < file.chunkCount && i >> 3 < bitmap.length; i++) {
        if (bitmap[i >> 3]! & (1 << (i & 7))) chunks.push(i);
      }
      return { file, chunks, problem: undefined };
    } catch (error) {
      return {
        file: undefined,
        chunks: "all",
        problem: `${this.sidecarPath} is not a valid record (${(error as Error).message})`,
      };
    }
  }

  /** Bytes in the `.part` now (0 when there is none). */
  partSize(): number {
    return statSync(this.partPath, { throwIfNoEntry: false })?.size ?? 0;
  }

  /** Starts recording for `file`, with `kept` chunks already verified in the part file. */
  begin(file: FileInfo, kept: Iterable<number>): void {
    this.#file = file;
    this.#bitmap = new Uint8Array(Math.ceil(file.chunkCount / 8));
    this.#count = 0;
    for (const index of kept) this.#mark(index);
    this.#dirty = true;
    this.save(true);
  }

  #mark(index: number): void {
    const bit = 1 << (index & 7);
    if ((this.#bitmap[index >> 3]! & bit) === 0) this.#count++;
    this.#bitmap[index >> 3]! |= bit;
  }

  /** Chunks recorded as written. */
  get count(): number {
    return this.#count;
  }

  /**
   * Notes that chunk `index` is written; when a save is due and none is running, starts one in
   * the background (`settle()` waits for it). Throws if the previous background save failed.
   */
  record(index: number): void {
    if (this.#saveError !== undefined) throw this.#saveError;
    this.#mark(index);
    this.#dirty = true;
    if (this.#saving !== undefined || Date.now() - this.#savedAt < 200) return;
    const text = this.#snapshot();
    if (text === undefined) return;
    const temporary = `${this.sidecarPath}.tmp`;
    this.#saving = writeFile(temporary, text)
      .then(() => rename(temporary, this.sidecarPath))
      .catch((error) => {
        this.#saveError = error;
        this.#dirty = true;
      })
      .finally(() => (this.#saving = undefined));
  }

  /** Waits for a background save (never rejects): call before `save(true)` and `complete`. */
  async settle(): Promise<void> {
    await this.#saving;
  }

  /**
   * Saves the sidecar now if anything changed and it is due (or `force`). After `record`,
   * `await settle()` first, so a background save cannot land after this one.
   */
  save(force = false): void {
    if (!force && Date.now() - this.#savedAt < 200) return;
    const text = this.#snapshot();
    if (text === undefined) return;
    const temporary = `${this.sidecarPath}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, this.sidecarPath);
  }

  /** The record as of now (marks it saved), or undefined when there is nothing new to save. */
  #snapshot(): string | undefined {
    const file = this.#file;
    if (file === undefined || !this.#dirty) return undefined;
    const record: Record2 = {
      version: 2,
      name: file.name,
      size: file.size,
      chunkSize: file.chunkSize,
      chunkCount: file.chunkCount,
      sha256: file.sha256,
      written: Buffer.from(this.#bitmap).toString("base64"),
    };
    this.#savedAt = Date.now();
    this.#dirty = false;
    return JSON.stringify(record) + "\n";
  }

  /** Removes the partial file and its sidecar. */
  discard(): void {
    rmSync(this.partPath, { force: true });
    rmSync(this.sidecarPath, { force: true });
  }

  /** Moves the finished part file to `out` and removes the sidecar. */
  complete(out: string): void {
    renameSync(this.partPath, out);
    rmSync(this.sidecarPath, { force: true });
  }
}

function checkRecordFile(record: unknown): FileInfo {
  const r = record as Record<string, unknown> | null;
  if (typeof r !== "object" || r === null) throw new Error("not an object");
  const { name, size, chunkSize, chunkCount, sha256 } = r;
  if (
    typeof name !== "string" || typeof sha256 !== "string" || !Number.isSafeInteger(size) ||
    !Number.isSafeInteger(chunkSize) || !Number.isSafeInteger(chunkCount) ||
    (chunkSize as number) < 1 ||
    (chunkCount as number) !== Math.ceil((size as number) / (chunkSize as number))
  ) throw new Error("its file description is incomplete or inconsistent");
  return {
    name,
    size: size as number,
    chunkSize: chunkSize as number,
    chunkCount: chunkCount as number,
    sha256,
  };
}
