/**
 * `downloadFileFromPool`: `downloadFile` over `connections` leases of one pool route. With an
 * exclusive pool (`maxStreamsPerConnection: 1`, `maxPerRoute ≥ connections`) every lease is its
 * own connection, so the chunks in flight spread over that many sockets; a shared pool packs
 * leases onto its connections and the download multiplexes over whatever it gets. Leases are
 * released when the download ends (a client that died is not reused).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { ConnectionPool } from "../pool/connection-pool.ts";
import type { PoolLease } from "../pool/pool-lease.ts";
import type { PooledClient } from "../pool/pool-options.ts";
import type { Route } from "../pool/route.ts";
import {
  downloadFile,
  type DownloadFileOptions,
  type DownloadResult,
  type FileTransferClient,
} from "./file-download.ts";

export interface PoolDownloadOptions<C extends PooledClient & FileTransferClient>
  extends Omit<DownloadFileOptions, "connections"> {
  readonly pool: ConnectionPool<C>;
  readonly route: Route;
  /** Leases to spread the download over (default 4). */
  readonly connections?: number;
}

/**
 * Downloads a file over `connections` leases from `pool`.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { downloadFileFromPool } from "ferry-transport/files";
 * import type { ConnectionPool } from "ferry-transport/pool";
 *
 * declare const pool: ConnectionPool<TransportClient>; // exclusive: maxStreamsPerConnection 1
 * const chunks: Uint8Array[] = [];
 * const result = await downloadFileFromPool({
 *   pool,
 *   route: { host: "10.0.0.7", port: 7337 },
 *   connections: 4,
 *   name: "dataset.bin",
 *   write: (chunk) => void chunks.push(chunk),
 *   onProgress: (p) => console.log(`${p.bytesWritten} of ${p.file.size} bytes`),
 * });
 * console.log(`SHA-256 ${result.sha256}, ${result.retries} retries`);
 * ```
 */
export async function downloadFileFromPool<C extends PooledClient & FileTransferClient>(
  options: PoolDownloadOptions<C>,
): Promise<DownloadResult> {
  const count = options.connections ?? 4;
  if (!Number.isSafeInteger(count) || count < 1 || count > 256) {
    throw new InvalidArgumentError(
      `downloadFileFromPool: connections must be an integer in [1, 256], got ${String(count)}`,
    );
  }
  const leaseOptions = {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.chunkTimeoutMs === undefined ? {} : { timeoutMs: options.chunkTimeoutMs }),
  };
  const settled = await Promise.allSettled(
    Array.from({ length: count }, () => options.pool.lease(options.route, leaseOptions)),
  );
  const leases: PoolLease<C>[] = [];
  let failure: unknown;
  for (const result of settled) {
    if (result.status === "fulfilled") leases.push(result.value);
    else failure ??= result.reason;
  }
  try {
    if (failure !== undefined) throw failure;
    return await downloadFile({ ...options, connections: leases.map((lease) => lease.client) });
  } finally {
    for (const lease of leases) lease.release(lease.client.isActive);
  }
}
