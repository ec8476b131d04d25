/**
 * The work every chunk-fetch case shares (TCP, TLS, WebSocket, Deno): 1 GiB as 1 MiB chunks
 * (64 MiB with --quick), 16 fetches in flight, and the Ferry contestant that does it over any
 * `TransportClient` — so the cases differ only in how they connect.
 *
 * @module
 */

import type { TransportClient } from "../../src/client/transport-client.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import type { CaseContext, Contestant, RunPhase, Sample } from "../harness/bench-case.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import { decodeStreamId, encodeOpenStream } from "../servers/ferry-bench-protocol.ts";
import { withWriteCount } from "./write-count.ts";

export const MiB = 1024 * 1024;
export const chunkBytes = 1 * MiB;
/** Fetches outstanding at once (the issue asks for 8–16). */
export const chunksInFlight = 16;

/** Chunks per run: 1 GiB measured (64 MiB with --quick), less to warm up. */
export function chunkCount(context: Pick<CaseContext, "quick">, phase: RunPhase): number {
  if (context.quick) return phase === "warmup" ? 16 : 64;
  return phase === "warmup" ? 256 : 1024;
}

/** `{ mibPerSecond, seconds }` of a transfer started at `startedAt`; throws on a short transfer. */
export function throughput(bytes: number, expected: number, startedAt: number) {
  const seconds = (performance.now() - startedAt) / 1000;
  if (bytes !== expected) {
    throw new Error(`chunk-fetch: received ${bytes} bytes, expected ${expected}`);
  }
  return { mibPerSecond: bytes / MiB / seconds, seconds };
}

/**
 * Fetches `count` chunks of {@linkcode chunkBytes} from the bench server, {@linkcode chunksInFlight}
 * in flight, with `fetchChunk` (each body the caller's to keep); timed from the RPC that registers
 * the stream to the last chunk received.
 */
export function fetchChunks(client: TransportClient, count: number) {
  return fetchChunkBytes(
    client,
    count,
    (streamId, index) => client.fetchChunk(streamId, index),
    byteLengthOf,
  );
}

/**
 * {@linkcode fetchChunks} with `fetchChunkWith`: each body is lent to a callback that counts it,
 * and its buffer then holds a later chunk (what a high-throughput consumer would use).
 */
export function fetchChunksLent(client: TransportClient, count: number) {
  return fetchChunkBytes(
    client,
    count,
    (streamId, index) => client.fetchChunkWith(streamId, index, byteLengthOf),
    (byteLength) => byteLength,
  );
}

const byteLengthOf = (body: Uint8Array): number => body.byteLength;

/** Registers a stream of `count` chunks and runs `fetch` on each, summing `bytesOf` its results. */
async function fetchChunkBytes<T>(
  client: TransportClient,
  count: number,
  fetch: (streamId: Int64, index: number) => Promise<T>,
  bytesOf: (result: T) => number,
) {
  let bytes = 0;
  const startedAt = performance.now();
  const streamId = decodeStreamId(await client.sendRpc(encodeOpenStream(count, chunkBytes)));
  await keepInFlight(count, chunksInFlight, (index) => fetch(streamId, index), (result) => {
    bytes += bytesOf(result);
  });
  return throughput(bytes, count * chunkBytes, startedAt);
}

/**
 * A contestant that opens one client with `connect` and, per run, moves the run's chunk count
 * with `transfer`; closing it closes the client.
 */
function chunkCountContestant<C extends { close(): Promise<void> }>(
  name: string,
  description: string,
  connect: (context: CaseContext) => Promise<C>,
  transfer: (client: C, count: number) => Promise<Sample>,
): Contestant {
  return {
    name,
    description,
    async open(context) {
      const client = await connect(context);
      return {
        run: (phase) => transfer(client, chunkCount(context, phase)),
        close: () => client.close(),
      };
    },
  };
}

/**
 * A Ferry contestant fetching chunks over whatever client `connect` opens, with `fetchChunk` or,
 * given `fetch` {@linkcode fetchChunksLent}, with `fetchChunkWith`.
 */
export function ferryChunkFetchContestant(
  name: string,
  description: string,
  connect: (context: CaseContext) => Promise<TransportClient>,
  fetch: typeof fetchChunks = fetchChunks,
): Contestant {
  return chunkCountContestant(
    name,
    description,
    connect,
    (client, count) => withWriteCount(client, () => fetch(client, count)),
  );
}

/** A raw blast client: asks for `count` buffers of `size` bytes, resolves with the bytes seen. */
export interface BlastReceiver {
  receive(count: number, size: number): Promise<number>;
  close(): Promise<void>;
}

/** A raw-blast baseline contestant: the same chunk count as Ferry, as one blast per run. */
export function blastContestant(
  name: string,
  description: string,
  connect: (context: CaseContext) => Promise<BlastReceiver>,
): Contestant {
  return chunkCountContestant(name, description, connect, async (client, count) => {
    const startedAt = performance.now();
    const bytes = await client.receive(count, chunkBytes);
    return throughput(bytes, count * chunkBytes, startedAt);
  });
}
