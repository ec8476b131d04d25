/**
 * `ConnectionPool`: one mechanism for both pools Ferry descends from.
 *
 * Each pooled connection carries up to `maxStreamsPerConnection` concurrent leases. `1` gives
 * exclusive leases under `maxTotal` / `maxPerRoute` with FIFO waiters, deadlines, validation after
 * inactivity, TTL and idle eviction (HttpClient's `PoolingHttpClientConnectionManager`). A larger
 * number or `Infinity` gives shared multiplexed clients, where concurrent callers share one
 * connect and an inactive client is replaced rather than handed out (Spark's
 * `TransportClientFactory`). See `lease-scheduler.ts` for exactly where a lease goes and how
 * waiting leases are ordered.
 *
 * ```ts
 * const pool = new ConnectionPool({
 *   connector: (route, options) => TransportClient.connect(tcpConnect(route as RouteAddress), options),
 *   maxTotal: 64, maxPerRoute: 4, maxStreamsPerConnection: Infinity,
 * });
 * {
 *   await using lease = await pool.lease({ host: "10.0.0.5", port: 7337 }, { timeoutMs: 5000 });
 *   await lease.client.sendRpc(body);
 * }
 * await pool.close();
 * ```
 *
 * Hot path: granting an available connection is O(1), allocates the lease and one resolved
 * promise, and arms no timer. A lease that waits sits in an O(1) FIFO; its deadline shares one
 * timer with every other waiter using the same timeout (see `lease-scheduler.ts`).
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { CallOptions } from "../deadline.ts";
import { InvalidArgumentError } from "../errors.ts";
import { ByteBudget } from "./byte-budget.ts";
import { PoolCore } from "./pool-core.ts";
import { PoolClosedError } from "./pool-errors.ts";
import type { PoolLease } from "./pool-lease.ts";
import type { ConnectionPoolOptions, PooledClient, RouteOptions } from "./pool-options.ts";
import { duration, resolveRouteSettings } from "./pool-options.ts";
import { collectStats } from "./pool-stats.ts";
import type { PoolStats } from "./pool-stats.ts";
import type { Route } from "./route.ts";
import { routeKey } from "./route.ts";
import type { RouteState } from "./route-state.ts";
import { observePool } from "../observability/observe.ts";

/** Options of one `lease` call: deadline (default: the pool's `leaseTimeoutMs`) and signal. */
export type LeaseOptions = CallOptions;

/**
 * A pool of clients keyed by route. See the module documentation.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { ConnectionPool, type Route } from "ferry-transport/pool";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = (route: Route) =>
 *   typeof route === "string" ? { host: route, port: 7337 } : route;
 * const pool = new ConnectionPool({
 *   connector: (route, options) => TransportClient.connect(tcpConnect(address(route)), options),
 *   maxTotal: 64,
 *   maxPerRoute: 4,
 * });
 * {
 *   await using lease = await pool.lease("executor-1", { timeoutMs: 5_000 });
 *   await lease.client.sendRpc(new TextEncoder().encode("hello"));
 * } // the lease goes back to the pool here
 * await pool.close();
 * ```
 */
export class ConnectionPool<C extends PooledClient> implements AsyncDisposable {
  readonly #core: PoolCore<C>;
  #closing: Promise<void> | undefined = undefined;

  constructor(options: ConnectionPoolOptions<C>) {
    this.#core = new PoolCore<C>(options);
    observePool(this);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** The clock the pool's deadlines run on (its `clock` option): for callers timing around it. */
  get clock(): Clock {
    return this.#core.clock;
  }

  /**
   * Leases a client for `route`. Resolves with a {@linkcode PoolLease}. Rejects with
   * `PoolTimeoutError` after the deadline, the signal's reason on abort, the connect or bootstrap
   * error when the connection opened for this lease fails, a fast-fail `ConnectError` while the
   * peer backs off after a failed connect, or `PoolClosedError`.
   */
  lease(route: Route, options?: LeaseOptions): Promise<PoolLease<C>> {
    const core = this.#core;
    let state: RouteState<C>;
    let timeoutMs: number;
    try {
      if (core.closed) throw core.closedError(describeRoute(route));
      state = core.routeState(route);
      timeoutMs = options?.timeoutMs === undefined
        ? core.leaseTimeoutMs
        : duration(options.timeoutMs, "timeoutMs", `a lease on ${state.key}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return core.scheduler.lease(state, timeoutMs, options?.signal);
  }

  /**
   * A shared client for `route`, the way Spark's `createClient` returns one: no lease is held and
   * the client stays in the pool for everyone. Only for routes whose connections are shared
   * (`maxStreamsPerConnection` > 1); on an exclusive route this rejects with
   * `InvalidArgumentError`. The pool may later close the client (idle, TTL, inactive): call again
   * for a live one.
   */
  async client(route: Route, options?: LeaseOptions): Promise<C> {
    if (this.#core.closed) throw this.#core.closedError(describeRoute(route));
    const state = this.#core.routeState(route);
    if (state.settings.maxStreamsPerConnection <= 1) {
      throw new InvalidArgumentError(
        `Cannot hand out a shared client for ${state.key}: its connections are exclusive (maxStreamsPerConnection is ${state.settings.maxStreamsPerConnection}); use lease()`,
      );
    }
    const lease = await this.lease(route, options);
    lease.release(true);
    return lease.client;
  }

  /**
   * A new client to `route` that the pool does not track (Spark's `createUnmanagedClient`): the
   * connector and bootstraps run as for pooled ones; limits, reuse, backoff and eviction do not
   * apply. The caller closes it.
   */
  unmanagedClient(route: Route, options?: CallOptions): Promise<C> {
    const core = this.#core;
    try {
      if (core.closed) throw core.closedError(describeRoute(route));
      const key = routeKey(route);
      const settings = resolveRouteSettings(core.options, core.overrides.get(key), `route ${key}`);
      return core.connector.open(route, key, settings, new Set(settings.peerFeatures), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Changes the limits and rules of one route (HttpClient's `setMaxPerRoute`, generalized). New
   * limits apply at once to waiting leases; `maxStreamsPerConnection` applies to connections
   * opened from now on.
   */
  setRouteOptions(route: Route, options: RouteOptions): void {
    const core = this.#core;
    const key = routeKey(route);
    const merged: RouteOptions = { ...core.overrides.get(key), ...options };
    const settings = resolveRouteSettings(core.options, merged, `ConnectionPool route ${key}`);
    core.overrides.set(key, merged);
    const state = core.routes.get(key);
    if (state === undefined) return;
    state.settings = settings;
    const budget = state.budget;
    if (
      budget !== undefined && budget.maxBytes !== settings.maxBytesInFlight &&
      budget.inFlight === 0 && budget.waiting === 0
    ) {
      state.budget = undefined;
    }
    core.scheduler.serve(state);
    core.scheduler.serveStarved();
  }

  /**
   * The byte budget for chunk fetches in flight to `route` (`maxBytesInFlight`), shared by every
   * caller of this pool. Reserve before requesting, release once the bytes are consumed.
   */
  byteBudget(route: Route): ByteBudget {
    const core = this.#core;
    if (core.closed) throw core.closedError(describeRoute(route));
    const state = core.routeState(route);
    state.budget ??= new ByteBudget(state.settings.maxBytesInFlight, {
      name: state.key,
      clock: core.clock,
    });
    return state.budget;
  }

  /** Counts in total and per route: leased, available, pending, connecting, connections, max. */
  stats(): PoolStats {
    return collectStats(this.#core.routes.values(), this.#core.total, this.#core.maxTotal);
  }

  /**
   * Rejects every waiting lease (and byte reservation) with `PoolClosedError`, aborts connects in
   * progress, closes every connection (leased ones too) and cancels every timer. Resolves once
   * all of it has settled. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const core = this.#core;
    core.closed = true;
    core.sweeper.cancel();
    core.scheduler.stop();
    for (const state of core.routes.values()) {
      const error = core.closedError(state.key);
      core.scheduler.failRoute(state, error);
      state.budget?.rejectWaiting(error);
    }
    core.connector.abort(new PoolClosedError("The connection pool was closed while connecting"));
    for (const state of core.routes.values()) {
      for (const connection of [...state.all]) core.discard(connection, "pool-closed");
    }
    this.#closing = core.connector.settled();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function describeRoute(route: Route): string {
  if (typeof route === "string") return route;
  if (typeof route === "object" && route !== null) return `${route.host}:${route.port}`;
  return String(route);
}
