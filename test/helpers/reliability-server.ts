/**
 * The server the reliability tests run against (faults, exhaustion, soak, fuzz, SIGKILL): every
 * request kind with contents a client can check, and a few behaviours to provoke failures.
 *
 * - RPC: `hang` never answers; `delay:<ms>:<rest>` answers after `ms`; `fail:<text>` fails; anything
 *   else is echoed.
 * - Uploads: the reply is `<meta>:<byteCount>:<checksum>` (see {@linkcode checksum}).
 * - Chunks: chunk `k` of any stream id `s` is `pattern(chunkSize(s, k), s * 31 + k)`; stream ids
 *   ≥ 1000 fail ("no such stream").
 * - Streams: `gen:<n>` is `pattern(n, 1)`, served in 64 KiB pieces; anything else fails.
 *
 * @module
 */

import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamBody, StreamManager } from "../../src/responder/stream-manager.ts";
import { pattern, readAll, text, utf8 } from "./engine-fixtures.ts";

/** A 32-bit rolling checksum (cheap, order-sensitive). */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.byteLength; i++) sum = (Math.imul(sum, 31) + bytes[i]!) >>> 0;
  return sum;
}

/** Size of chunk `k` of stream `s` (1 .. 100 000 bytes, deterministic). */
export function chunkSize(streamId: number, chunkIndex: number): number {
  return 1 + ((streamId * 7919 + chunkIndex * 104_729) % 100_000);
}

/** The bytes chunk `k` of stream `s` must have. */
export function expectedChunk(streamId: number, chunkIndex: number): Uint8Array {
  return pattern(chunkSize(streamId, chunkIndex), streamId * 31 + chunkIndex);
}

/** The bytes stream `gen:<n>` must have. */
export function expectedGen(size: number): Uint8Array {
  return pattern(size, 1);
}

/** The reply an upload of `data` with `meta` must get. */
export function expectedUploadReply(meta: string, data: Uint8Array): string {
  return `${meta}:${data.byteLength}:${checksum(data)}`;
}

export const reliabilityHandler: RpcHandler = {
  receive(_client, message) {
    const head = text(message.subarray(0, 24));
    if (head === "hang") return new Promise<Uint8Array>(() => {});
    if (head.startsWith("fail:")) throw new Error(text(message));
    const delay = /^delay:(\d+):/.exec(head);
    if (delay !== null) {
      return new Promise((resolve) => setTimeout(() => resolve(message), Number(delay[1])));
    }
    return message;
  },
  receiveOneWay() {},
  async receiveStream(_client, meta, body) {
    const bytes = await readAll(body);
    return utf8(expectedUploadReply(text(meta), bytes));
  },
};

const PIECE = 64 * 1024;

export const reliabilityStreams: StreamManager = {
  getChunk(streamId, chunkIndex) {
    const id = Number(streamId);
    if (!(id >= 0 && id < 1000)) {
      return Promise.reject(new Error(`no such stream ${String(streamId)}`));
    }
    return Promise.resolve(expectedChunk(id, chunkIndex));
  },
  openStream(streamId): Promise<StreamBody> {
    const match = /^gen:(\d+)$/.exec(streamId);
    if (match === null) return Promise.reject(new Error(`Stream '${streamId}' was not found.`));
    const size = Number(match[1]);
    const data = expectedGen(size);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < size; at += PIECE) pieces.push(data.subarray(at, at + PIECE));
    return Promise.resolve({ byteLength: size, body: pieces });
  },
  connectionTerminated() {},
};
