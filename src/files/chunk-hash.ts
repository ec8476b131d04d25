/**
 * Per-chunk SHA-256 for a download: the hash function is injected (Node's `node:crypto` in the
 * CLI), and by default is the runtime's WebCrypto — one `crypto.subtle.digest` per chunk, which
 * browsers, Deno and Node run off the JavaScript thread — else Ferry's own `Sha256`.
 *
 * @module
 */

import { Sha256 } from "../checksum/sha256.ts";
import { CHUNK_DIGEST_LENGTH } from "./file-service.ts";

/** SHA-256 of one chunk (32 bytes). */
export type ChunkHasher = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * WebCrypto where the runtime has it (secure contexts in browsers), else Ferry's `Sha256`.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { defaultChunkHasher, downloadFile } from "ferry-transport/files";
 *
 * declare const connections: TransportClient[];
 * // The hasher downloadFile uses anyway, wrapped to count the bytes it verified.
 * const sha256 = defaultChunkHasher();
 * let hashed = 0;
 * await downloadFile({
 *   name: "dataset.bin",
 *   connections,
 *   write: () => {},
 *   hashChunk: (bytes) => {
 *     hashed += bytes.byteLength;
 *     return sha256(bytes);
 *   },
 * });
 * console.log(`${hashed} bytes verified chunk by chunk`);
 * ```
 */
export function defaultChunkHasher(): ChunkHasher {
  const subtle = globalThis.crypto?.subtle;
  if (subtle !== undefined && typeof subtle.digest === "function") {
    return async (bytes) =>
      new Uint8Array(await subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  }
  return (bytes) => new Sha256().update(bytes).digest();
}

/** Whether `digest` equals chunk `index`'s entry in `chunks`. */
export function digestMatches(chunks: Uint8Array, index: number, digest: Uint8Array): boolean {
  if (digest.byteLength !== CHUNK_DIGEST_LENGTH) return false;
  const at = index * CHUNK_DIGEST_LENGTH;
  for (let i = 0; i < CHUNK_DIGEST_LENGTH; i++) if (chunks[at + i] !== digest[i]) return false;
  return true;
}

/** Hex of chunk `index`'s entry in `chunks` (for messages). */
export function digestHex(chunks: Uint8Array, index: number): string {
  const at = index * CHUNK_DIGEST_LENGTH;
  return Array.from(
    chunks.subarray(at, at + CHUNK_DIGEST_LENGTH),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
