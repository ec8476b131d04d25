/**
 * The connection pool: `ConnectionPool` and what goes with it — routes, leases, stats, the byte
 * budget, the `TransportClient` connector and the retrying chunk fetcher (Ferry's ping validation
 * is in `ferry-transport/extensions`).
 * The package's `ferry-transport/pool` entry.
 *
 * @module
 */

export { ConnectionPool, type LeaseOptions } from "./connection-pool.ts";
export { PoolLease } from "./pool-lease.ts";
export { PoolClosedError, PoolTimeoutError } from "./pool-errors.ts";
export { type Route, type RouteAddress, routeKey } from "./route.ts";
export {
  type BootstrapContext,
  type ClientBootstrap,
  type ConnectBackoffOptions,
  type ConnectionPoolOptions,
  type ConnectionValidator,
  type Connector,
  defaultPoolOptions,
  type PoolCloseReason,
  type PooledClient,
  type PooledConnectionInfo,
  type PoolHooks,
  type RouteOptions,
} from "./pool-options.ts";
export type { PoolStats, RouteStats } from "./pool-stats.ts";
export type { Clock, TimerHandle } from "../clock.ts";
export { ByteBudget, type ByteReservation } from "./byte-budget.ts";
export type { RpcCapableClient } from "../client/rpc-capable-client.ts";
export { transportConnector } from "./transport-connector.ts";
export {
  type ChunkFetchingClient,
  type ChunkLocation,
  fetchChunksWithRetry,
  type RetryingFetchOptions,
  type RetryingFetchResult,
} from "./retrying-chunk-fetcher.ts";
