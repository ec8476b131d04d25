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
