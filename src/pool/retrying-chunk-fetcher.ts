/**
 * Chunk fetches through the pool that survive I/O failures, in the spirit of Spark's
 * `RetryingBlockTransferor`.
 *
 * The caller names the chunks it wants by key. Each attempt leases a client from the pool, asks
 * `open` (if given) where the still-outstanding keys live on that connection — Ferry servers bind
 * stream ids to the connection that opened them, so a retry usually re-opens — and fetches them,
 * each under the route's byte budget when `sizeOf` is given. A chunk that arrives is delivered to
 * `onChunk` once and never requested again; a chunk the server refuses (ChunkFetchFailure: a
 * `RemoteError`) is answered too, reported to `onFailure` and not retried. When the connection
 * fails (closed, reset, timed out, could not connect), the chunks still outstanding — and only
 * those — are requested again on a fresh lease after a jittered, growing wait, up to
 * `maxRetries` times; past that they fail with the last I/O error.
 *
 * @module
 */

import { type Clock, keepAliveClock, systemClock } from "../clock.ts";
import type { CallOptions } from "../deadline.ts";
import {
  ConnectError,
  ConnectionClosedError,
  InvalidArgumentError,
  TimeoutError,
} from "../errors.ts";
import type { Int64 } from "../protocol/messages.ts";
import type { ByteReservation } from "./byte-budget.ts";
import type { ConnectionPool } from "./connection-pool.ts";
import type { PooledClient } from "./pool-options.ts";
import type { Route } from "./route.ts";

/** Where a chunk lives on one connection. */
export interface ChunkLocation {
  readonly streamId: Int64;
  readonly chunkIndex: number;
}

/** What the fetcher needs from a client. `TransportClient` satisfies it. */
export interface ChunkFetchingClient extends PooledClient {
  fetchChunk(streamId: Int64, chunkIndex: number, options?: CallOptions): Promise<Uint8Array>;
}

/** One retrying fetch of many chunks. */
export interface RetryingFetchOptions<K, C extends ChunkFetchingClient> extends CallOptions {
  /** The chunks wanted, by the caller's key (each key once). */
  readonly keys: readonly K[];
  /**
   * Called on each attempt's client with the keys still outstanding; returns where each is on
   * that connection (e.g. after an RPC that opens the stream). Without it, keys must be
   * {@linkcode ChunkLocation}s.
   */
  readonly open?: (
    client: C,
    outstanding: readonly K[],
    options: CallOptions,
  ) => Promise<(key: K) => ChunkLocation>;
  /** Expected bytes of a chunk: fetches then wait for the route's byte budget. */
  readonly sizeOf?: (key: K) => number;
  /** A chunk arrived. Its budget is returned once this returns (or its promise settles). */
  readonly onChunk: (key: K, bytes: Uint8Array) => void | Promise<void>;
  /** A chunk failed for good (refused by the server, or out of retries). */
  readonly onFailure?: (key: K, error: unknown) => void;
  /** Retries after the first attempt. Default 3 (Spark's `io.maxRetries`). */
  readonly maxRetries?: number;
  /** Wait before the first retry; doubles each time (jittered, at most 30 s). Default 500 ms. */
  readonly retryWaitMs?: number;
  /** Deadline of each chunk request (default: none beyond the client's own). */
  readonly chunkTimeoutMs?: number;
}

/** How a retrying fetch ended. */
export interface RetryingFetchResult<K> {
  readonly fetched: number;
  readonly failed: readonly { readonly key: K; readonly error: unknown }[];
  /** Attempts made (1 = no retry was needed). */
  readonly attempts: number;
}

const MAX_RETRY_WAIT_MS = 30_000;

/** Whether an error means the connection failed (retry elsewhere) rather than the request. */
export function isRetryableIoError(error: unknown): boolean {
  return error instanceof ConnectionClosedError || error instanceof ConnectError ||
    error instanceof TimeoutError;
}

/**
 * Fetches `options.keys` from `route` through `pool`, retrying I/O failures.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { type ConnectionPool, fetchChunksWithRetry } from "ferry-transport/pool";
 *
 * declare const pool: ConnectionPool<TransportClient>;
 * const result = await fetchChunksWithRetry(pool, "executor-1", {
 *   keys: [0, 1, 2].map((chunkIndex) => ({ streamId: 42n, chunkIndex })),
 *   onChunk: (key, bytes) => console.log(`chunk ${key.chunkIndex}: ${bytes.byteLength} bytes`),
 *   maxRetries: 3,
 *   timeoutMs: 60_000,
 * });
 * console.log(result.fetched, result.failed.length, result.attempts);
 * ```
 */
export async function fetchChunksWithRetry<K, C extends ChunkFetchingClient>(
  pool: ConnectionPool<C>,
  route: Route,
  options: RetryingFetchOptions<K, C>,
): Promise<RetryingFetchResult<K>> {
  const maxRetries = options.maxRetries ?? 3;
  const retryWaitMs = options.retryWaitMs ?? 500;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new InvalidArgumentError(
      `fetchChunksWithRetry: maxRetries must be an integer ≥ 0, received ${String(maxRetries)}`,
    );
  }
  if (!Number.isFinite(retryWaitMs) || retryWaitMs < 0) {
    throw new InvalidArgumentError(
      `fetchChunksWithRetry: retryWaitMs must be a finite number ≥ 0, received ${
        String(retryWaitMs)
      }`,
    );
  }
  const outstanding = new Set<K>(options.keys);
  if (outstanding.size !== options.keys.length) {
    throw new InvalidArgumentError("fetchChunksWithRetry: keys must be distinct");
  }
  const signal = options.signal;
  const failed: { key: K; error: unknown }[] = [];
  const fail = (key: K, error: unknown) => {
    outstanding.delete(key);
    failed.push({ key, error });
    options.onFailure?.(key, error);
  };
  let fetched = 0;
  let attempts = 0;
  for (;;) {
    attempts++;
    signal?.throwIfAborted();
    let ioError: unknown = undefined;
    try {
      const lease = await pool.lease(route, { timeoutMs: options.timeoutMs, signal });
      try {
        ioError = await attemptOnce(lease.client);
      } finally {
        // A timed-out connection may be stuck: close it so the retry gets a fresh one (Spark
        // closes a connection whose request timed out, too).
        lease.release(!(ioError instanceof TimeoutError));
      }
    } catch (error) {
      if (!isRetryableIoError(error)) {
        for (const key of [...outstanding]) fail(key, error);
        throw error;
      }
      ioError = error;
    }
    if (outstanding.size === 0) return { fetched, failed, attempts };
    if (attempts > maxRetries) {
      for (const key of [...outstanding]) fail(key, ioError);
      return { fetched, failed, attempts };
    }
    const base = Math.min(MAX_RETRY_WAIT_MS, retryWaitMs * 2 ** (attempts - 1));
    await sleep(base * (0.5 + Math.random() / 2), signal, waitClock(pool.clock));
  }

  /** One attempt on one client; resolves with the I/O error that ended it, if any. */
  async function attemptOnce(client: C): Promise<unknown> {
    const keys = [...outstanding];
    let locate: (key: K) => ChunkLocation;
    if (options.open !== undefined) {
      try {
        locate = await options.open(client, keys, { timeoutMs: options.timeoutMs, signal });
      } catch (error) {
        if (isRetryableIoError(error)) return error;
        throw error;
      }
    } else {
      locate = (key) => key as unknown as ChunkLocation;
    }
    let ioError: unknown = undefined;
    let fatal: { error: unknown } | undefined;
    const budget = options.sizeOf === undefined ? undefined : pool.byteBudget(route);
    await Promise.all(keys.map(async (key) => {
      let reservation: ByteReservation | undefined;
      try {
        if (budget !== undefined) {
          reservation = await budget.reserve(options.sizeOf!(key), { signal });
        }
        // After an I/O error this connection is gone: the key stays outstanding for the retry.
        if (ioError !== undefined || fatal !== undefined) return;
        let bytes: Uint8Array;
        try {
          const where = locate(key);
          bytes = await client.fetchChunk(where.streamId, where.chunkIndex, {
            timeoutMs: options.chunkTimeoutMs,
            signal,
          });
        } catch (error) {
          if (isRetryableIoError(error)) ioError ??= error;
          else if (!signal?.aborted) fail(key, error);
          return;
        }
        outstanding.delete(key);
        fetched++;
        await options.onChunk(key, bytes);
      } catch (error) {
        fatal ??= { error };
      } finally {
        reservation?.release();
      }
    }));
    signal?.throwIfAborted();
    if (fatal !== undefined) throw fatal.error;
    return ioError;
  }
}

/**
 * The clock the wait between attempts runs on: the pool's, except that the default real-time
 * clock's timers do not keep the process alive, and this wait is work the caller awaits.
 */
function waitClock(clock: Clock): Clock {
  return clock === systemClock ? keepAliveClock : clock;
}

function sleep(ms: number, signal: AbortSignal | undefined, clock: Clock): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimer(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
