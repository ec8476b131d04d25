/**
 * What a file download can fail with besides I/O errors: the bytes do not hash to the SHA-256
 * the server announced, or the file is not the one a resumed download started with.
 *
 * @module
 */

import { PayloadError } from "../errors.ts";

/** The downloaded file's SHA-256 is not the announced one (code `ERR_PAYLOAD`). */
export class ChecksumMismatchError extends PayloadError {
  readonly expected: string;
  readonly actual: string;
  constructor(name: string, expected: string, actual: string) {
    super(`SHA-256 mismatch for ${name}: expected ${expected}, computed ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The file changed: two connections opened different versions, a chunk has the wrong length, or
 * a resumed download's recorded size, chunking or SHA-256 no longer match (code `ERR_PAYLOAD`).
 */
export class FileChangedError extends PayloadError {}

/**
 * A chunk kept failing its announced SHA-256: every fetch of it (first try and refetches, over
 * whichever connections there were) arrived with other bytes (code `ERR_PAYLOAD`).
 */
export class ChunkDigestMismatchError extends PayloadError {
  readonly chunk: number;
  readonly attempts: number;
  constructor(name: string, chunk: number, attempts: number, expected: string, actual: string) {
    super(
      `Chunk ${chunk} of ${name} failed its SHA-256 on all ${attempts} fetches (expected ` +
        `${expected}, last computed ${actual})`,
    );
    this.chunk = chunk;
    this.attempts = attempts;
  }
}
