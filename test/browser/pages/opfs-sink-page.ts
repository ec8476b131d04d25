/// <reference lib="dom" />
/**
 * The page side of `test/browser/web-demo-opfs-sink.test.ts`: drives the web demo's OPFS writer
 * worker sink (`web-demo/src/opfs-worker-sink.ts`) with chunks as the download hands them over, and
 * reports what happened to each chunk's buffer, what the worker's digests were, and what the file
 * holds afterwards.
 *
 * @module
 */

import { openOpfsWorkerSink } from "../../../web-demo/src/opfs-worker-sink.ts";

const NAME = "ferry-opfs-sink-test.bin";
const CHUNK = 1000;

function pattern(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 97) & 0xff;
  return bytes;
}

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(
    bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

export interface OpfsSinkReport {
  readonly canHash: boolean;
  /** byteLength of each chunk view after it was hashed or written (0: its buffer moved). */
  readonly lengthsAfter: Record<string, number>;
  /** Digests from the worker equal WebCrypto's in the page, by chunk. */
  readonly digestsMatch: Record<string, boolean>;
  /** The OPFS file after `finish` equals the chunks written at their offsets. */
  readonly fileMatches: boolean;
  readonly fileSize: number;
}

export async function checkOpfsSink(): Promise<OpfsSinkReport> {
  const root = await navigator.storage.getDirectory();
  const sink = await openOpfsWorkerSink(
    NAME,
    async () => await (await root.getFileHandle(NAME)).getFile(),
  );
  if (sink === undefined) throw new Error("no OPFS worker sink in this Chromium");
  const hash = sink.hash;
  const expected = [pattern(CHUNK, 0), pattern(CHUNK, 1), pattern(CHUNK, 2), pattern(CHUNK, 3)];
  const pageDigest = async (bytes: Uint8Array<ArrayBuffer>) =>
    hex(await crypto.subtle.digest("SHA-256", bytes));
  const lengthsAfter: Record<string, number> = {};
  const digestsMatch: Record<string, boolean> = {};
  // Chunk 0: a buffer of its own (a WebSocket message's body), hashed in the worker.
  const own = expected[0]!.slice();
  // Chunk 1: a view into a larger buffer that also holds other bytes: must be copied, not moved.
  const shared = new Uint8Array(3 * CHUNK);
  shared.set(expected[1]!, CHUNK);
  const view = shared.subarray(CHUNK, 2 * CHUNK);
  // Chunk 2: first a damaged copy is hashed, then the refetched good one replaces it.
  const damaged = expected[2]!.slice();
  damaged[7]! ^= 1;
  const refetched = expected[2]!.slice();
  if (hash !== undefined) {
    digestsMatch.own = hex(await hash(own, 0)) === await pageDigest(expected[0]!);
    lengthsAfter.ownHashed = own.byteLength;
    digestsMatch.view = hex(await hash(view, 1)) === await pageDigest(expected[1]!);
    lengthsAfter.viewHashed = view.byteLength;
    digestsMatch.damaged = hex(await hash(damaged, 2)) === await pageDigest(expected[2]!);
    digestsMatch.refetched = hex(await hash(refetched, 2)) === await pageDigest(expected[2]!);
  }
  await sink.write(own, 0);
  await sink.write(view, CHUNK);
  await sink.write(refetched, 2 * CHUNK);
  // Chunk 3: written without being hashed there (the page hashed it): its buffer moves on write.
  const plain = expected[3]!.slice();
  await sink.write(plain, 3 * CHUNK);
  lengthsAfter.plainWritten = plain.byteLength;
  const file = await sink.finish();
  const bytes = new Uint8Array(await file!.arrayBuffer());
  const whole = new Uint8Array(4 * CHUNK);
  expected.forEach((chunk, i) => whole.set(chunk, i * CHUNK));
  await root.removeEntry(NAME).catch(() => {});
  return {
    canHash: hash !== undefined,
    lengthsAfter,
    digestsMatch,
    fileMatches: hex(bytes) === hex(whole),
    fileSize: bytes.byteLength,
  };
}
