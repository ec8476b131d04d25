/**
 * What the web demo says about a verified download's SHA-256: the digest, what computed the
 * chunk digests it was verified with (WebCrypto, or Ferry's runtime-neutral `Sha256` where a page
 * over plain http from another host has no WebCrypto), and the time spent hashing.
 *
 * @module
 */

export interface FileDigest {
  /** 64 lowercase hex digits. */
  readonly hex: string;
  /** What computed the chunk digests. */
  readonly engine: "WebCrypto" | "Ferry Sha256";
  /** Time spent in chunk digests (they overlap the transfer). */
  readonly elapsedMs: number;
}
