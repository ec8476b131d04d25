/**
 * Where a lease goes, and where freed capacity goes. Every decision is O(1) list work (plus, when
 * `maxTotal` is the limit, a look at the routes waiting for it).
 *
 * A lease takes, in order: a Ready shared connection with room (packing keeps the connection count
 * low); an idle connection (LIFO or FIFO; validated first if it sat idle long enough); a
 * connection being opened or validated that has room (its waiters share that one connect); a new
 * connection if the route and the pool are under their limits (closing another route's least
 * recently used idle connection when only `maxTotal` is in the way); otherwise the route's FIFO
 * queue. A released lease goes straight to the oldest waiter of its route. Capacity freed under
 * `maxTotal` goes to the route whose oldest waiter arrived first.
 *
 * @module
 */

import type { LeaseWaiter } from "./lease-waiter.ts";
import type { PoolCore } from "./pool-core.ts";
import { callHook } from "./pool-core.ts";
import { PoolLease } from "./pool-lease.ts";
import type { PooledClient } from "./pool-options.ts";
import { ConnectionState, PooledConnection } from "./pooled-connection.ts";
import type { RouteState } from "./route-state.ts";

const { Validating, Ready } = ConnectionState;

/**
 * A Ready connection with one more lease counted for the caller; or an idle one now Validating
 * (the caller assigns itself to it); or undefined. Inactive and expired connections met on the
 * way are closed, never returned.
 */
export function takeReady<C extends PooledClient>(
  core: PoolCore<C>,
  state: RouteState<C>,
): PooledConnection<C> | undefined {
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
 * Joins a connect or validation in progress, or opens a connection, or fails the waiter fast while
 * the peer backs off. False when it has to queue.
 */
export function placeNew<C extends PooledClient>(
  core: PoolCore<C>,
  state: RouteState<C>,
  waiter: LeaseWaiter<C>,
): boolean {
  const joinable = state.joinable.first;
  if (joinable !== null) {
    assign(joinable.value, waiter);
    return true;
  }
  if (state.connections >= state.settings.maxPerRoute) return false;
  const now = core.clock.now();
  if (state.backoff.blocks(now)) {
    core.deadlines.remove(waiter);
    waiter.fail(state.backoff.fastFailError(state.key, now));
    return true;
  }
  if (core.total >= core.maxTotal) {
    const victim = core.idle.first;
    if (victim === null) {
      core.starved.add(state);
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
  assign(connection, waiter);
  core.connector.establish(
    connection,
    (client, error) => core.established(connection, client, error),
  );
  return true;
}

/** Counts `waiter` on a connection that is opening or validating. */
export function assign<C extends PooledClient>(
  connection: PooledConnection<C>,
  waiter: LeaseWaiter<C>,
): void {
  connection.waiters.push(waiter.node);
  waiter.connection = connection;
  connection.load++;
  if (connection.load >= connection.maxStreams) {
    connection.route.joinable.remove(connection.routeNode);
  }
}

/** Serves the route's queue, oldest first, as far as capacity allows. */
export function serve<C extends PooledClient>(core: PoolCore<C>, state: RouteState<C>): void {
  while (!core.closed) {
    const node = state.pending.first;
    if (node === null) break;
    const waiter = node.value;
    const connection = takeReady(core, state);
    state.pending.remove(node);
    if (connection !== undefined) {
      if (connection.state === Ready) grant(core, waiter, connection);
      else assign(connection, waiter);
    } else if (!placeNew(core, state, waiter)) {
      state.pending.unshift(node);
      return;
    }
  }
  core.starved.delete(state);
}

/** Gives capacity freed under `maxTotal` to the routes that waited for it, oldest first. */
export function serveStarved<C extends PooledClient>(core: PoolCore<C>): void {
  while (core.starved.size > 0 && !core.closed) {
    if (core.total >= core.maxTotal && core.idle.size === 0) return;
    let oldest: RouteState<C> | undefined;
    for (const state of core.starved) {
      const head = state.pending.first;
      if (head === null) core.starved.delete(state);
      else if (oldest === undefined || head.value.seq < oldest.pending.first!.value.seq) {
        oldest = state;
      }
    }
    if (oldest === undefined) return;
    core.starved.delete(oldest);
    serve(core, oldest);
    if (core.starved.has(oldest)) return;
  }
}

/**
 * Arrival number of the oldest waiter held back only by `maxTotal` (Infinity if none): its route
 * has room under `maxPerRoute`, so a connection closed elsewhere lets it open one. A freed
 * connection goes to its own route's waiter only if no older such waiter exists: waiters are
 * served FIFO across routes, as HttpClient does (the connection is then closed to make room).
 */
function oldestStarvedSeq<C extends PooledClient>(
  core: PoolCore<C>,
  releasing: RouteState<C>,
): number {
  let oldest = Infinity;
  for (const state of core.starved) {
    const head = state.pending.first;
    // The releasing route counts itself: its waiter can take the connection as it is.
    const canOpen = state === releasing || state.connections < state.settings.maxPerRoute;
    if (head !== null && head.value.seq < oldest && canOpen) {
      oldest = head.value.seq;
    }
  }
  return oldest;
}

/** A lease on a Ready connection whose load already counts it. */
export function newLease<C extends PooledClient>(
  core: PoolCore<C>,
  connection: PooledConnection<C>,
): PoolLease<C> {
  const lease = new PoolLease<C>(core.owner, connection);
  if (core.hooks.lease !== undefined) {
    callHook(() => core.hooks.lease!(connection.route.key, lease.client));
  }
  return lease;
}

/** Settles a waiter with a lease on `connection` (load already counted). */
export function grant<C extends PooledClient>(
  core: PoolCore<C>,
  waiter: LeaseWaiter<C>,
  connection: PooledConnection<C>,
): void {
  core.deadlines.remove(waiter);
  waiter.connection = null;
  waiter.grant(newLease(core, connection));
}

/** A waiter gives up (deadline or abort): it leaves whatever it was in and fails. */
export function abandon<C extends PooledClient>(
  core: PoolCore<C>,
  waiter: LeaseWaiter<C>,
  error: unknown,
): void {
  if (waiter.settled) return;
  core.deadlines.remove(waiter);
  const state = waiter.route;
  const connection = waiter.connection;
  if (connection !== null) {
    connection.waiters.remove(waiter.node);
    waiter.connection = null;
    connection.load--;
    if (connection.routeNode.list === null && connection.load < connection.maxStreams) {
      state.joinable.push(connection.routeNode);
    }
  } else {
    state.pending.remove(waiter.node);
  }
  waiter.fail(error);
  if (connection !== null) serve(core, state);
  else if (state.pending.size === 0) core.starved.delete(state);
}

/** A lease came back. */
export function releaseConnection<C extends PooledClient>(
  core: PoolCore<C>,
  connection: PooledConnection<C>,
  reusable: boolean,
): void {
  const state = connection.route;
  if (core.hooks.release !== undefined) {
    callHook(() => core.hooks.release!(state.key, connection.client!, reusable));
  }
  if (connection.state !== Ready) return; // closed under the lease: nothing to give back
  connection.load--;
  state.leased--;
  if (!reusable || !connection.client!.isActive) {
    core.retire(connection, reusable ? "inactive" : "not-reusable");
    return;
  }
  if (
    connection.draining ||
    (connection.expiresAt !== Infinity && core.clock.now() >= connection.expiresAt)
  ) {
    if (connection.load === 0) core.retire(connection, "ttl");
    else {
      connection.routeNode.list?.remove(connection.routeNode);
      connection.draining = true;
    }
    return;
  }
  const head = state.pending.first;
  if (
    head !== null &&
    (connection.load > 0 || core.starved.size === 0 ||
      head.value.seq <= oldestStarvedSeq(core, connection.route))
  ) {
    state.pending.remove(head);
    if (state.pending.size === 0) core.starved.delete(state);
    connection.load++;
    state.leased++;
    grant(core, head.value, connection);
    return;
  }
  if (connection.load === 0) {
    connection.routeNode.list?.remove(connection.routeNode);
    if (core.starved.size > 0 && oldestStarvedSeq(core, state) !== Infinity) {
      core.retire(connection, "evicted-for-other-route");
    } else core.makeIdle(connection, core.clock.now());
  } else if (connection.routeNode.list === null) {
    state.partial.push(connection.routeNode);
  }
}

/** A connection became Ready (opened or validated): grant its waiters, then serve the queue. */
export function activate<C extends PooledClient>(
  core: PoolCore<C>,
  connection: PooledConnection<C>,
): void {
  const state = connection.route;
  state.joinable.remove(connection.routeNode);
  connection.state = Ready;
  const waiters = connection.waiters.drain();
  connection.load = waiters.length;
  state.leased += waiters.length;
  for (const waiter of waiters) grant(core, waiter, connection);
  if (connection.load === 0) core.makeIdle(connection, core.clock.now());
  else if (connection.load < connection.maxStreams) state.partial.push(connection.routeNode);
  serve(core, state);
}
