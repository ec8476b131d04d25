/**
 * The pool's shared state and the connection lifecycle: route states, the idle list across
 * routes, counts, and what happens when a connection opens, fails to open, validates, closes or
 * idles out. Lease scheduling (which connection a lease gets, who waits, in what order, for how
 * long) lives in `lease-scheduler.ts`; the public API in `connection-pool.ts`. Internal: not
 * exported from the package.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { ConnectBackoff } from "./connect-backoff.ts";
import { IntrusiveList } from "./intrusive-list.ts";
import { LeaseScheduler } from "./lease-scheduler.ts";
import type { Clock } from "../clock.ts";
import { systemClock } from "../clock.ts";
import { PoolConnector } from "./pool-connector.ts";
import { PoolClosedError, PoolTimeoutError } from "./pool-errors.ts";
import type { LeaseOwner } from "./pool-lease.ts";
import type {
  ConnectionPoolOptions,
  ConnectionValidator,
  PoolCloseReason,
  PooledClient,
  PoolHooks,
  RouteOptions,
} from "./pool-options.ts";
import {
  defaultPoolOptions,
  duration,
  positiveCount,
  resolveRouteSettings,
} from "./pool-options.ts";
import { ConnectionState } from "./pooled-connection.ts";
import type { PooledConnection } from "./pooled-connection.ts";
import { RearmableTimer } from "./rearmable-timer.ts";
import type { Route } from "./route.ts";
import { routeKey } from "./route.ts";
import { RouteState } from "./route-state.ts";

const { Opening, Validating, Ready, Closed } = ConnectionState;
const where = "ConnectionPool";

/** Runs an observability hook; a throw must not break the pool, so it is re-raised later. */
export function callHook(run: () => void): void {
  try {
    run();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** State and lifecycle shared by the pool's parts. */
export class PoolCore<C extends PooledClient> {
  readonly options: ConnectionPoolOptions<C>;
  readonly clock: Clock;
  readonly hooks: PoolHooks<C>;
  readonly validator: ConnectionValidator<C> | undefined;
  readonly validationTimeoutMs: number;
  readonly maxTotal: number;
  readonly leaseTimeoutMs: number;
  readonly lifo: boolean;
  readonly random: () => number;
  readonly overrides = new Map<string, RouteOptions>();
  readonly routes = new Map<string, RouteState<C>>();
  /** Idle connections of every route, oldest idle first. */
  readonly idle = new IntrusiveList<PooledConnection<C>>();
  readonly scheduler: LeaseScheduler<C>;
  readonly sweeper: RearmableTimer;
  readonly connector: PoolConnector<C>;
  readonly owner: LeaseOwner<C>;
  /** Connections not closed, all routes. */
  total = 0;
  nextId = 1;
  closed = false;

  constructor(options: ConnectionPoolOptions<C>) {
    if (typeof options?.connector !== "function") {
      throw new InvalidArgumentError(
        `Cannot create a ConnectionPool: options.connector must be a function, received ${typeof options
          ?.connector}`,
      );
    }
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.hooks = options.hooks ?? {};
    this.validator = options.validate;
    this.random = options.random ?? Math.random;
    this.maxTotal = positiveCount(
      options.maxTotal ?? defaultPoolOptions.maxTotal,
      "maxTotal",
      where,
    );
    this.leaseTimeoutMs = duration(
      options.leaseTimeoutMs ?? defaultPoolOptions.leaseTimeoutMs,
      "leaseTimeoutMs",
      where,
    );
    this.validationTimeoutMs = duration(
      options.validationTimeoutMs ?? defaultPoolOptions.validationTimeoutMs,
      "validationTimeoutMs",
      where,
    );
    const reuse = options.reusePolicy ?? "lifo";
    if (reuse !== "lifo" && reuse !== "fifo") {
      throw new InvalidArgumentError(
        `Cannot create a ConnectionPool: reusePolicy must be "lifo" or "fifo", received ${
          String(reuse)
        }`,
      );
    }
    this.lifo = reuse === "lifo";
    resolveRouteSettings(options, undefined, where); // validates the defaults eagerly
    for (const [key, override] of Object.entries(options.routes ?? {})) {
      resolveRouteSettings(options, override, `${where} route ${key}`);
      this.overrides.set(key, override);
    }
    new ConnectBackoff(options.connectBackoff); // validates eagerly
    this.sweeper = new RearmableTimer(this.clock, () => this.sweep());
    this.connector = new PoolConnector<C>(options, this.clock);
    this.scheduler = new LeaseScheduler<C>(this);
    const scheduler = this.scheduler;
    this.owner = {
      releaseConnection: (connection, reusable) => scheduler.release(connection, reusable),
    };
  }

  /** The state of `route`'s key, created on first use. */
  routeState(route: Route): RouteState<C> {
    const key = routeKey(route);
    let state = this.routes.get(key);
    if (state === undefined) {
      const settings = resolveRouteSettings(this.options, this.overrides.get(key), `route ${key}`);
      state = new RouteState<C>(
        key,
        route,
        settings,
        new ConnectBackoff(this.options.connectBackoff),
      );
      this.routes.set(key, state);
    }
    return state;
  }

  /** Drops a route's state once nothing refers to it (failure memory and budgets keep it). */
  forgetIfUnused(state: RouteState<C>): void {
    if (
      state.connections === 0 && state.pending.size === 0 && state.backoff.failures === 0 &&
      (state.budget === undefined || (state.budget.inFlight === 0 && state.budget.waiting === 0)) &&
      this.routes.get(state.key) === state
    ) {
      this.routes.delete(state.key);
      this.scheduler.starved.delete(state);
    }
  }

  /** The connector (and bootstraps) finished for `connection`: a client, or an error. */
  established(connection: PooledConnection<C>, client: C | undefined, error: unknown): void {
    const state = connection.route;
    if (connection.state === Closed) {
      if (client !== undefined) this.connector.close(client);
      return;
    }
    if (client === undefined) {
      state.backoff.recordFailure(this.clock.now(), error, this.random());
      callHook(() => this.hooks.connectFailed?.(state.key, error));
      this.scheduler.connectFailed(connection, error);
      this.retire(connection, "bootstrap-failed");
      return;
    }
    const now = this.clock.now();
    connection.client = client;
    connection.createdAt = now;
    const ttl = state.settings.timeToLiveMs;
    connection.expiresAt = ttl > 0 ? now + ttl : Infinity;
    state.opening--;
    state.backoff.recordSuccess();
    const onClosed = () => this.retire(connection, "inactive");
    client.closed.then(onClosed, onClosed);
    callHook(() => this.hooks.connect?.(state.key, client, now - connection.startedAt));
    this.scheduler.activate(connection);
  }

  /** A validation after inactivity finished. */
  validated(connection: PooledConnection<C>, ok: boolean): void {
    if (connection.state !== Validating) return;
    if (ok && connection.client!.isActive) this.scheduler.activate(connection);
    else this.retire(connection, "validation-failed");
  }

  /** Removes a connection, then lets waiters use the capacity it held. */
  retire(connection: PooledConnection<C>, reason: PoolCloseReason): void {
    if (connection.state === Closed) return;
    const state = connection.route;
    this.discard(connection, reason);
    // The freed capacity goes to the oldest waiter that can use it, this route's or another's.
    this.scheduler.capacityFreed(state);
    this.forgetIfUnused(state);
  }

  /**
   * Closes and uncounts a connection. Waiters assigned to it go back to the front of their queue
   * in order (callers that must fail them drain them first). Leases on it become orphans whose
   * release is a no-op.
   */
  discard(connection: PooledConnection<C>, reason: PoolCloseReason): void {
    if (connection.state === Closed) return;
    const state = connection.route;
    const previous = connection.state;
    connection.state = Closed;
    connection.routeNode.list?.remove(connection.routeNode);
    connection.idleNode.list?.remove(connection.idleNode);
    state.all.delete(connection);
    state.connections--;
    this.total--;
    if (previous === Opening) state.opening--;
    else if (previous === Ready) state.leased -= connection.load;
    connection.load = 0;
    const requeue = connection.waiters.drain();
    for (let i = requeue.length - 1; i >= 0; i--) {
      const waiter = requeue[i]!;
      waiter.connection = null;
      state.pending.unshift(waiter.node);
    }
    const client = connection.client;
    if (client !== undefined) {
      this.connector.close(client);
      callHook(() => this.hooks.close?.(state.key, client, reason));
    }
  }

  /** Marks a Ready connection idle and makes sure the sweep will look at it in time. */
  makeIdle(connection: PooledConnection<C>, now: number): void {
    connection.idleSince = now;
    connection.route.idle.push(connection.routeNode);
    this.idle.push(connection.idleNode);
    const idleTimeout = connection.route.settings.idleTimeoutMs;
    const due = Math.min(idleTimeout > 0 ? now + idleTimeout : Infinity, connection.expiresAt);
    if (due !== Infinity) this.sweeper.armBy(due);
  }

  /** The one eviction timer: closes idle connections past their idle timeout or TTL. */
  sweep(): void {
    if (this.closed) return;
    const now = this.clock.now();
    let next = Infinity;
    const touched = new Set<RouteState<C>>();
    for (let node = this.idle.first; node !== null;) {
      const following = node.next;
      const connection = node.value;
      const idleTimeout = connection.route.settings.idleTimeoutMs;
      const idleDue = idleTimeout > 0 ? connection.idleSince + idleTimeout : Infinity;
      const due = Math.min(idleDue, connection.expiresAt);
      const active = connection.client!.isActive;
      if (!active || now >= due) {
        touched.add(connection.route);
        this.discard(
          connection,
          !active ? "inactive" : now >= connection.expiresAt ? "ttl" : "idle",
        );
      } else if (due < next) {
        next = due;
      }
      node = following;
    }
    if (next !== Infinity) this.sweeper.armBy(next);
    this.scheduler.serveStarved();
    for (const state of touched) this.forgetIfUnused(state);
  }

  timeoutError(state: RouteState<C>, timeoutMs: number): PoolTimeoutError {
    return new PoolTimeoutError(
      `Leasing a connection to ${state.key} timed out after ${timeoutMs} ms (route: ${state.leased} leased, ${state.connections}/${state.settings.maxPerRoute} connections, ${state.opening} connecting, ${state.pending.size} queued; pool: ${this.total}/${this.maxTotal} connections)`,
      timeoutMs,
    );
  }

  closedError(name: string): PoolClosedError {
    return new PoolClosedError(`Cannot lease a connection to ${name}: the pool is closed`);
  }
}
