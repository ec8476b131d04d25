/**
 * The transfer loop of `downloadFile`: fetches the chunks a download still needs with N requests
 * in flight over its connections' lanes, verifies each chunk's SHA-256 as it arrives (the hash is
 * asynchronous — WebCrypto runs it off the JavaScript thread — so the next requests are already on
 * the wire), and hands good chunks to `write` at their offsets: one at a time in index order (a
 * chunk that arrived early waits for its turn inside the window) or, for positional sinks, as
 * they arrive, up to `maxWrites` at once (a file written from a thread pool: one slow write does
 * not hold back the chunks behind it, and their memory returns sooner). With `lend` (arrival
 * order), chunks come through `fetchChunkWith` and each body stays lent until it was hashed and
 * written, so the connection reuses its memory for a later chunk instead of handing out a fresh
 * buffer per chunk.
 *
 * When the transfer fails, it settles only once the writes already started have finished (those
 * that succeed are reported through `onWritten` first): nothing is written into the sink, and no
 * chunk is reported written, after the transfer's promise rejected.
 *
 * Memory stays bounded: chunks fetched but not yet written count against a window of
 * `2 × inFlight` (lent bodies: `inFlight` plus one per connection or write slot), and no request
 * is sent while the window is full. A chunk failing its digest is
 * fetched again on another connection where there is one, at most `maxRefetches` times; a chunk
 * failing with an I/O error is retried on another live connection up to `maxRetries` times.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { isRetryableIoError } from "../pool/retrying-chunk-fetcher.ts";
import { type ChunkHasher, digestHex, digestMatches } from "./chunk-hash.ts";
import { ChunkDigestMismatchError, FileChangedError } from "./file-errors.ts";
import type { FileInfo } from "./file-service.ts";
import type { FileTransferClient } from "./file-download.ts";

export interface Lane {
  readonly index: number;
  readonly client: FileTransferClient;
  readonly streamId: bigint;
  inFlight: number;
  alive: boolean;
}

export interface TransferPlan {
  readonly file: FileInfo;
  readonly lanes: readonly Lane[];
  /** Chunks to fetch, ascending. */
  readonly todo: readonly number[];
  readonly maxInFlight: number;
  readonly maxRetries: number;
  readonly maxRefetches: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Chunk digests to verify against (undefined: not verified here). */
  readonly digests: Uint8Array | undefined;
  readonly hashChunk: ChunkHasher;
  readonly write: (chunk: Uint8Array, index: number, offset: number) => void | Promise<void>;
  /** `index`: chunks are written in `todo` order (held back until their turn); else on arrival. */
  readonly writeOrder: "index" | "arrival";
  /** Writes running at once in arrival order (at least 1; index order always writes one). */
  readonly maxWrites: number;
  /**
   * Fetch with `fetchChunkWith` where a lane's client has it (arrival order only): each body is
   * lent, held until it was hashed and written, then taken back — no fresh buffer per chunk.
   */
  readonly lend: boolean;
  readonly onFetched: (index: number, byteLength: number, lane: number) => void;
  readonly onWritten: (index: number, byteLength: number) => void;
}

export interface TransferCounts {
  chunksFetched: number;
  bytesFetched: number;
  /** I/O retries plus refetches of chunks that failed their digest. */
  retries: number;
  /** Chunks that arrived with bytes not matching their digest. */
  badChunks: number;
  inFlight: number;
}

/** Runs `plan`; resolves when every chunk in `plan.todo` is verified and written. */
export async function transferChunks(plan: TransferPlan, counts: TransferCounts): Promise<void> {
  const { file, lanes, maxInFlight, signal } = plan;
  const { chunkCount, chunkSize, size } = file;
  const lengthOf = (index: number) =>
    index < chunkCount - 1 ? chunkSize : size - chunkSize * (chunkCount - 1);
  const fetchOptions = { timeoutMs: plan.timeoutMs };
  // Index order holds verified chunks back for their turn: those must be the caller's to keep.
  const lending = plan.lend && plan.writeOrder === "arrival";
  const maxWrites = plan.writeOrder === "arrival" ? Math.max(1, plan.maxWrites) : 1;
  // A lent body held past the requests in flight is a frame buffer its connection cannot reuse:
  // the next frame gets fresh memory. So lent bodies wait for a write beside at most one per
  // connection or write slot (`ferry get`, 256 MiB over TCP: 21 k → 14 k page faults, and no
  // slower); a deeper backlog would only hold memory while the writes catch up.
  const window = lending
    ? maxInFlight + Math.max(lanes.length, maxWrites)
    : Math.max(2 * maxInFlight, maxInFlight + lanes.length);
  const retryQueue: { index: number; avoid: number }[] = [];
  const ioAttempts = new Map<number, number>();
  const badAttempts = new Map<number, number>();
  let next = 0;
  /** Fetched, not yet written (being hashed, or waiting for the writer). */
  let held = 0;
  let remaining = plan.todo.length;
  /** Verified chunks waiting for a write slot, in the order they are to be written. */
  const queued: { index: number; bytes: Uint8Array; settled: () => void }[] = [];
  let writing = 0;
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let failed = false;
  let failure: unknown;
  /** Rejects `done` once no write is running (none starts after a failure). */
  const rejectWhenIdle = () => {
    if (failed && writing === 0) settle.reject(failure);
  };
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    failure = error;
    rejectWhenIdle();
  };
  const onAbort = () => fail(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });

  const pickLane = (avoid = -1): Lane | undefined => {
    let best: Lane | undefined;
    for (const lane of lanes) {
      if (!lane.alive || lane.index === avoid) continue;
      if (best === undefined || lane.inFlight < best.inFlight) best = lane;
    }
    return best ?? (avoid >= 0 && lanes[avoid]?.alive ? lanes[avoid] : undefined);
  };

  /** Index order: verified chunks waiting for their turn, and the position in `todo` that is next. */
  const ready = new Map<number, Uint8Array>();
  let turn = 0;
  /** Settles once `bytes` are written (or dropped): a lent body is held until then. */
  const verified = (index: number, bytes: Uint8Array): Promise<void> | undefined => {
    if (plan.writeOrder === "arrival") return written(index, bytes);
    ready.set(index, bytes);
    while (turn < plan.todo.length && ready.has(plan.todo[turn]!)) {
      const next = plan.todo[turn++]!;
      written(next, ready.get(next)!);
      ready.delete(next);
    }
    return undefined;
  };

  const written = (index: number, bytes: Uint8Array): Promise<void> =>
    new Promise<void>((settled) => {
      queued.push({ index, bytes, settled });
      startWrites();
    });

  const startWrites = () => {
    while (writing < maxWrites && queued.length > 0) {
      const { index, bytes, settled } = queued.shift()!;
      if (failed) {
        settled();
        continue;
      }
      writing++;
      writeOne(index, bytes).catch(fail).finally(() => {
        writing--;
        settled();
        if (failed) {
          // Dropped, not written: their lent bodies go back too.
          for (const waiting of queued.splice(0)) waiting.settled();
          rejectWhenIdle();
        } else startWrites();
      });
    }
  };

  const writeOne = async (index: number, bytes: Uint8Array): Promise<void> => {
    // Not read from the bytes: a hasher or sink given them may have transferred (detached) them.
    const length = lengthOf(index);
    await plan.write(bytes, index, index * chunkSize);
    held--;
    remaining--;
    plan.onWritten(index, length);
    if (failed) return;
    if (remaining === 0) settle.resolve();
    else pump();
  };

  const arrived = async (index: number, bytes: Uint8Array, lane: Lane): Promise<void> => {
    if (plan.digests === undefined) return verified(index, bytes);
    const digest = await plan.hashChunk(bytes);
    if (failed) return;
    if (digestMatches(plan.digests, index, digest)) return verified(index, bytes);
    held--;
    counts.badChunks++;
    const tried = (badAttempts.get(index) ?? 0) + 1;
    badAttempts.set(index, tried);
    if (tried > plan.maxRefetches) {
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      fail(
        new ChunkDigestMismatchError(file.name, index, tried, digestHex(plan.digests, index), hex),
      );
      return;
    }
    counts.retries++;
    retryQueue.push({ index, avoid: lane.index });
    pump();
  };

  /** A chunk's bytes came in: settles once they are written or dropped; never rejects. */
  const received = (index: number, bytes: Uint8Array, lane: Lane): Promise<void> | undefined => {
    counts.inFlight--;
    lane.inFlight--;
    if (failed) return undefined;
    if (bytes.byteLength !== lengthOf(index)) {
      fail(
        new FileChangedError(
          `Chunk ${index} of ${file.name} has ${bytes.byteLength} bytes, expected ${
            lengthOf(index)
          }`,
        ),
      );
      return undefined;
    }
    counts.chunksFetched++;
    counts.bytesFetched += bytes.byteLength;
    try {
      plan.onFetched(index, bytes.byteLength, lane.index);
    } catch (error) {
      fail(error);
      return undefined;
    }
    return arrived(index, bytes, lane).catch(fail);
  };

  const fetchOne = (index: number, lane: Lane) => {
    counts.inFlight++;
    lane.inFlight++;
    held++;
    const failedFetch = (error: unknown) => {
      counts.inFlight--;
      lane.inFlight--;
      held--;
      if (failed) return;
      if (lane.client.isActive === false) lane.alive = false;
      const tried = (ioAttempts.get(index) ?? 0) + 1;
      ioAttempts.set(index, tried);
      if (!isRetryableIoError(error) || tried > plan.maxRetries || pickLane() === undefined) {
        fail(error);
        return;
      }
      counts.retries++;
      retryQueue.push({ index, avoid: lane.index });
      pump();
    };
    // Only the deadline goes to each fetch: one abort listener per chunk on the shared signal
    // would pile up (Node warns past 10). A fetch still in flight when the download stops is
    // ignored; its connection's owner closes or reuses it. `received` never throws, so a
    // rejection here is the fetch's own failure, never the hash's or the write's.
    const client = lane.client;
    if (lending && client.fetchChunkWith !== undefined) {
      client.fetchChunkWith(
        lane.streamId,
        index,
        (bytes) => received(index, bytes, lane),
        fetchOptions,
      ).then(undefined, failedFetch);
    } else {
      client.fetchChunk(lane.streamId, index, fetchOptions).then((bytes) => {
        received(index, bytes, lane);
      }, failedFetch);
    }
  };

  const pump = () => {
    while (!failed && counts.inFlight < maxInFlight && held < window) {
      let index: number;
      let avoid = -1;
      if (retryQueue.length > 0) ({ index, avoid } = retryQueue.shift()!);
      else if (next < plan.todo.length) index = plan.todo[next++]!;
      else return;
      const lane = pickLane(avoid);
      if (lane === undefined) {
        fail(new ConnectionClosedError(`Downloading ${file.name}: no open connection left`));
        return;
      }
      fetchOne(index, lane);
    }
  };

  try {
    if (remaining === 0) settle.resolve();
    else pump();
    await done;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
