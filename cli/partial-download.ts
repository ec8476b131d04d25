/**
 * The partial file of an interrupted `ferry get`: `<out>.part` holds chunks `0 … chunksWritten − 1`
 * of the file, and `<out>.part.json` records what they are a prefix of (name, size, chunk size
 * and count, SHA-256) and how many are written. The sidecar is rewritten at most every 200 ms
 * and when the download stops, and always after the bytes it counts were written, so it never
 * claims more than the `.part` file holds (at worst it claims less, and those chunks are fetched
 * again).
 *
 * @module
 */

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { FileInfo } from "../src/files/file-service.ts";

export interface PartialState extends FileInfo {
  readonly version: 1;
  readonly chunksWritten: number;
}

export class PartialDownload {
  readonly partPath: string;
  readonly sidecarPath: string;
  #file: FileInfo | undefined;
  #chunksWritten = 0;
  #savedAt = 0;
  #saved = -1;

  constructor(out: string) {
    this.partPath = `${out}.part`;
    this.sidecarPath = `${out}.part.json`;
  }

  /** The recorded state of an earlier run, or undefined (none, or unreadable: start over). */
  load(): PartialState | undefined {
    if (!existsSync(this.sidecarPath) || !existsSync(this.partPath)) return undefined;
    try {
      const state = JSON.parse(readFileSync(this.sidecarPath, "utf8")) as PartialState;
      if (state.version !== 1 || !Number.isSafeInteger(state.chunksWritten)) return undefined;
      return state;
    } catch {
      return undefined;
    }
  }

  /** Starts recording for `file`, `chunksWritten` chunks already in the part file. */
  begin(file: FileInfo, chunksWritten: number): void {
    this.#file = file;
    this.#chunksWritten = chunksWritten;
    this.save(true);
  }

  /** Notes progress; saves the sidecar when it is due (or `force`). */
  record(chunksWritten: number, force = false): void {
    this.#chunksWritten = chunksWritten;
    this.save(force);
  }

  save(force = false): void {
    const file = this.#file;
    if (file === undefined || this.#saved === this.#chunksWritten) return;
    const now = Date.now();
    if (!force && now - this.#savedAt < 200) return;
    const state: PartialState = {
      version: 1,
      name: file.name,
      size: file.size,
      chunkSize: file.chunkSize,
      chunkCount: file.chunkCount,
      sha256: file.sha256,
      chunksWritten: this.#chunksWritten,
    };
    const temporary = `${this.sidecarPath}.tmp`;
    writeFileSync(temporary, JSON.stringify(state) + "\n");
    renameSync(temporary, this.sidecarPath);
    this.#savedAt = now;
    this.#saved = this.#chunksWritten;
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
