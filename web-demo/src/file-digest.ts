/**
 * SHA-256 of a downloaded file with WebCrypto (`crypto.subtle.digest` over the whole assembled
 * file). WebCrypto exists only in secure contexts (https, or http on localhost / 127.0.0.1); a
 * page opened over plain http from another host falls back to Ferry's own runtime-neutral `Sha256`,
 * and says so.
 *
 * @module
 */

import { Sha256, toHex } from "../../src/mod.ts";

export interface FileDigest {
  /** 64 lowercase hex digits. */
  readonly hex: string;
  /** What computed it. */
  readonly engine: "WebCrypto" | "Ferry Sha256";
  readonly elapsedMs: number;
}

/** Hashes `bytes` (the whole file). */
export async function sha256Of(bytes: Uint8Array<ArrayBuffer>): Promise<FileDigest> {
  const started = performance.now();
  const subtle = globalThis.crypto?.subtle;
  if (subtle !== undefined) {
    const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
    return { hex: toHex(digest), engine: "WebCrypto", elapsedMs: performance.now() - started };
  }
  const hex = new Sha256().update(bytes).hexDigest();
  return { hex, engine: "Ferry Sha256", elapsedMs: performance.now() - started };
}
