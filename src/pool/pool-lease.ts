/**
 * A granted lease: the `client` to use and the duty to give it back. `release(reusable)` returns
 * it (pass `false` when the connection is known broken: it is closed instead of reused — on a
 * shared connection that ends it for every holder). `await using lease = await pool.lease(route)`
 * releases it automatically. Releasing twice is a no-op.
 *
 * @module
 */

import type { PooledClient } from "./pool-options.ts";
import type { PooledConnection } from "./pooled-connection.ts";

/** Where a lease goes back to (the pool, without exposing its internals). */
export interface LeaseOwner<C extends PooledClient> {
  releaseConnection(connection: PooledConnection<C>, reusable: boolean): void;
}

/**
 * A client borrowed from the pool.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import type { ConnectionPool } from "ferry-transport/pool";
 *
 * declare const pool: ConnectionPool<TransportClient>;
 * const lease = await pool.lease({ host: "127.0.0.1", port: 7337 }, { timeoutMs: 5_000 });
 * try {
 *   await lease.client.fetchChunk(7n, 0);
 *   lease.release(); // reusable: back to the pool
 * } catch (error) {
 *   lease.release(false); // this connection failed: close it instead of reusing it
 *   throw error;
 * }
 * ```
 */
export class PoolLease<C extends PooledClient> implements AsyncDisposable, Disposable {
  /** The client to use until `release`. */
  readonly client: C;
  readonly #owner: LeaseOwner<C>;
  readonly #connection: PooledConnection<C>;
  #released = false;

  constructor(owner: LeaseOwner<C>, connection: PooledConnection<C>) {
    this.#owner = owner;
    this.#connection = connection;
    this.client = connection.client!;
  }

  /** The route key this lease belongs to. */
  get routeKey(): string {
    return this.#connection.route.key;
  }

  /** Whether `release` was called. */
  get released(): boolean {
    return this.#released;
  }

  /** Gives the client back; `reusable: false` closes the connection instead of reusing it. */
  release(reusable = true): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.releaseConnection(this.#connection, reusable);
  }

  /** `using` support: releases as reusable. */
  [Symbol.dispose](): void {
    this.release(true);
  }

  /** `await using` support: releases as reusable. */
  [Symbol.asyncDispose](): Promise<void> {
    this.release(true);
    return Promise.resolve();
  }
}
