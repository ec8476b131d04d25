/**
 * Where a lease goes: the connection a lease of one route takes, in this order —
 *
 * 1. a Ready shared connection with room (`partial`; packing keeps the connection count low);
 * 2. an idle connection (LIFO or FIFO by `reusePolicy`; validated first when it sat idle longer
 *    than `validateAfterInactivityMs`, and the lease waits on that validation);
 * 3. a connection being opened or validated that has room (`joinable`);
 * 4. a new connection, if the route and the pool are under their limits (closing another route's
 *    least recently used idle connection when only `maxTotal` is in the way), or an immediate
 *    fast-fail while the route backs off after failed connects;
 * 5. otherwise, the route's queue.
 *
 * Every step is O(1) list work (plus, when `maxTotal` is the limit, a look at the starved routes).
 *
 * `LeaseScheduler` (`lease-scheduler.ts`) decides who is placed and when (queues, arrival order,
 * deadlines); this class only looks for a connection for the lease in hand, and counts the lease on
 * the connection it finds.
 *
 * @module
 */

import type { DeadlineQueues } from "./deadline-queue.ts";
import type { LeaseWaiter } from "./lease-waiter.ts";
import type { PoolCore } from "./pool-core.ts";
import type { PooledClient } from "./pool-options.ts";
import { ConnectionState, PooledConnection } from "./pooled-connection.ts";
import type { RouteState } from "./route-state.ts";

const { Validating } = ConnectionState;

/** Finds connections for the leases of one pool. See the module documentation. */
export class LeasePlacement<C extends PooledClient> {
  readonly #core: PoolCore<C>;
  /** The scheduler's routes held back only by `maxTotal`: a lease that cannot open joins them. */
  readonly #starved: Set<RouteState<C>>;
  /** The scheduler's lease deadlines: a lease failed fast leaves its queue. */
  readonly #deadlines: DeadlineQueues<LeaseWaiter<C>>;

  constructor(
    core: PoolCore<C>,
    starved: Set<RouteState<C>>,
    deadlines: DeadlineQueues<LeaseWaiter<C>>,
  ) {
    this.#core = core;
    this.#starved = starved;
    this.#deadlines = deadlines;
  }

  /**
   * A Ready connection with one more lease counted for the caller; or an idle one now Validating
   * (the caller assigns itself to it); or undefined. Inactive and expired connections met on the
   * way are closed, never returned.
   */
  takeReady(state: RouteState<C>): PooledConnection<C> | undefined {
    const core = this.#core;
    for (let node = state.partial.first; node !== null; node = state.partial.first) {
      const connection = node.value;
      if (!connection.client!.isActive) {
        core.discard(connection, "inactive");
        continue;
      }
      if (connection.expiresAt !== Infinity && core.clock.now() >= connection.expiresAt) {
        state.partial.remove(node);
        connection.draining = true;
        continue;
      }
      connection.load++;
      state.leased++;
      if (connection.load >= connection.maxStreams) state.partial.remove(node);
      return connection;
    }
    for (;;) {
      const node = core.lifo ? state.idle.last : state.idle.first;
      if (node === null) return undefined;
      const connection = node.value;
      state.idle.remove(node);
      core.idle.remove(connection.idleNode);
      if (!connection.client!.isActive) {
        core.discard(connection, "inactive");
        continue;
      }
      // The clock is read only when a rule needs it: the common case reads none.
      const validateAfter = core.validator === undefined
        ? 0
        : state.settings.validateAfterInactivityMs;
      const now = connection.expiresAt !== Infinity || validateAfter > 0 ? core.clock.now() : 0;
      if (now >= connection.expiresAt) {
        core.discard(connection, "ttl");
        continue;
      }
      if (validateAfter > 0 && now - connection.idleSince >= validateAfter && core.validator) {
        connection.state = Validating;
        state.joinable.push(connection.routeNode);
        core.connector.validate(
          connection,
          core.validator,
          core.validationTimeoutMs,
          (ok) => core.validated(connection, ok),
        );
        return connection;
      }
      connection.load = 1;
      state.leased++;
      if (connection.maxStreams > 1) state.partial.push(connection.routeNode);
      return connection;
    }
  }

  /**
   * Joins a connect or validation in progress, or opens a connection, or fails the waiter fast
   * while the peer backs off. False when it has to queue.
   */
  placeNew(state: RouteState<C>, waiter: LeaseWaiter<C>): boolean {
    const core = this.#core;
    const joinable = state.joinable.first;
    if (joinable !== null) {
      this.assign(joinable.value, waiter);
      return true;
    }
    if (state.connections >= state.settings.maxPerRoute) return false;
    const now = core.clock.now();
    if (state.backoff.blocks(now)) {
      this.#deadlines.remove(waiter);
      waiter.fail(state.backoff.fastFailError(state.key, now));
      return true;
    }
    if (core.total >= core.maxTotal) {
      const victim = core.idle.first;
      if (victim === null) {
        this.#starved.add(state);
        return false;
      }
      const victimRoute = victim.value.route;
      core.discard(victim.value, "evicted-for-other-route");
      core.forgetIfUnused(victimRoute);
    }
    const connection = new PooledConnection<C>(core.nextId++, state, now);
    state.connections++;
    state.opening++;
    core.total++;
    state.all.add(connection);
    state.joinable.push(connection.routeNode);
    this.assign(connection, waiter);
    core.connector.establish(
      connection,
      (client, error) => core.established(connection, client, error),
    );
    return true;
  }

  /** Counts `waiter` on a connection that is opening or validating. */
  assign(connection: PooledConnection<C>, waiter: LeaseWaiter<C>): void {
    connection.waiters.push(waiter.node);
    waiter.connection = connection;
    connection.load++;
    if (connection.load >= connection.maxStreams) {
      connection.route.joinable.remove(connection.routeNode);
    }
  }
}
