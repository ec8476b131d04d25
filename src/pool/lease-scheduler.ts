/**
 * The pool's lease scheduling, in one place: who gets a connection, who waits, in what order,
 * and for how long. Everything else in `src/pool` opens, validates, counts or closes
 * connections (`pool-core.ts`, `pool-connector.ts`); this class decides leases. It owns two
 * helpers: `lease-waiter.ts` (one waiting lease) and `deadline-queue.ts` (lease deadlines).
 *
 * ## Queues and order
 *
 * - Each route has one FIFO queue of waiting leases (`RouteState.pending`). A lease that cannot be
 *   granted at once joins the back; freed capacity always goes to the front. A lease never passes
 *   an older one of the same route: when the queue is not empty, a new lease queues even if a
 *   connection happens to be free (the free connection is already being handed to the front).
 * - A lease waiting for a connection that is being opened or validated for it sits on that
 *   connection's waiter list instead (one connect serves as many waiters as it has streams). If
 *   the connect fails they all fail with its error; if the connection closes, they go back to the
 *   front of their route's queue, in order.
 * - Every waiter carries an arrival number (`seq`) across the whole pool. When `maxTotal` is what
 *   holds a route back, the route is "starved"; capacity freed anywhere (a close, an eviction, a
 *   release with nobody waiting on that route) goes to the starved route whose front waiter
 *   arrived first. A released connection goes to its own route's front waiter unless an older
 *   starved waiter elsewhere could use the slot, in which case it is closed to make room: leases
 *   are served FIFO across routes, as HttpClient's pool does.
 *
 * ## Placement (what a lease takes, in order)
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
 * ## Deadlines and aborts
 *
 * A waiting lease has a deadline (`timeoutMs`, default the pool's `leaseTimeoutMs`; 0 = none) and
 * an optional `AbortSignal`. Deadlines cost no timer per lease: waiters with the same timeout
 * share one FIFO and one timer (`DeadlineQueues`). A waiter that times out or is aborted leaves
 * whatever list it is in (O(1)) and fails with `PoolTimeoutError` or the signal's reason; if it
 * was counted on an opening connection, its slot is offered to the queue again.
 *
 * Hot path: granting an available connection is O(1), allocates the lease and one resolved
 * promise, and arms no timer.
 *
 * @module
 */

import { observeLeaseWait } from "../observability/observe.ts";
import { DeadlineQueues } from "./deadline-queue.ts";
import { LeaseWaiter } from "./lease-waiter.ts";
import type { PoolCore } from "./pool-core.ts";
import { callHook } from "./pool-core.ts";
import type { PoolClosedError } from "./pool-errors.ts";
import { PoolLease } from "./pool-lease.ts";
import type { PooledClient } from "./pool-options.ts";
import { ConnectionState, PooledConnection } from "./pooled-connection.ts";
import type { RouteState } from "./route-state.ts";

const { Validating, Ready } = ConnectionState;

let capturedResolve: ((value: never) => void) | undefined;
let capturedReject: ((error: unknown) => void) | undefined;
/** Promise executor shared by every waiting lease; it runs synchronously inside `new Promise`. */
function captureSettlers(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** Decides every lease of one pool. See the module documentation. */
export class LeaseScheduler<C extends PooledClient> {
  readonly #core: PoolCore<C>;
  /** Routes whose oldest waiter is held back only by `maxTotal`. */
  readonly starved = new Set<RouteState<C>>();
  readonly deadlines: DeadlineQueues<LeaseWaiter<C>>;
  /** Arrival counter of waiters, pool-wide. */
  #seq = 0;

  constructor(core: PoolCore<C>) {
    this.#core = core;
    this.deadlines = new DeadlineQueues<LeaseWaiter<C>>(core.clock, (waiter, timeoutMs) => {
      this.abandon(waiter, core.timeoutError(waiter.route, timeoutMs));
    });
  }

  /** A lease on `state`'s route: granted now, or a waiter with a deadline (`timeoutMs` > 0). */
  lease(
    state: RouteState<C>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<PoolLease<C>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let connection: PooledConnection<C> | undefined;
    if (state.pending.size === 0) {
      connection = this.#takeReady(state);
      if (connection !== undefined && connection.state === Ready) {
        return Promise.resolve(this.#newLease(connection));
      }
    }
    // One shared executor captures resolve/reject: no closure allocated per waiting lease.
    const promise = new Promise<PoolLease<C>>(captureSettlers);
    observeLeaseWait(state.key, promise);
    const waiter = new LeaseWaiter<C>(
      state,
      ++this.#seq,
      capturedResolve as (lease: PoolLease<C>) => void,
      capturedReject!,
    );
    if (connection !== undefined) this.#assign(connection, waiter);
    else if (state.pending.size > 0 || !this.#placeNew(state, waiter)) {
      state.pending.push(waiter.node);
    }
    if (waiter.settled) return promise;
    if (timeoutMs > 0) this.deadlines.add(waiter, timeoutMs);
    if (signal !== undefined) {
      waiter.signal = signal;
      waiter.onAbort = () => this.abandon(waiter, signal.reason);
      signal.addEventListener("abort", waiter.onAbort, { once: true });
    }
    return promise;
  }

  /**
   * A Ready connection with one more lease counted for the caller; or an idle one now Validating
   * (the caller assigns itself to it); or undefined. Inactive and expired connections met on the
   * way are closed, never returned.
   */
  #takeReady(state: RouteState<C>): PooledConnection<C> | undefined {
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
  #placeNew(state: RouteState<C>, waiter: LeaseWaiter<C>): boolean {
    const core = this.#core;
    const joinable = state.joinable.first;
    if (joinable !== null) {
      this.#assign(joinable.value, waiter);
      return true;
    }
    if (state.connections >= state.settings.maxPerRoute) return false;
    const now = core.clock.now();
    if (state.backoff.blocks(now)) {
      this.deadlines.remove(waiter);
      waiter.fail(state.backoff.fastFailError(state.key, now));
      return true;
    }
    if (core.total >= core.maxTotal) {
      const victim = core.idle.first;
      if (victim === null) {
        this.starved.add(state);
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
    this.#assign(connection, waiter);
    core.connector.establish(
      connection,
      (client, error) => core.established(connection, client, error),
    );
    return true;
  }

  /** Counts `waiter` on a connection that is opening or validating. */
  #assign(connection: PooledConnection<C>, waiter: LeaseWaiter<C>): void {
    connection.waiters.push(waiter.node);
    waiter.connection = connection;
    connection.load++;
    if (connection.load >= connection.maxStreams) {
      connection.route.joinable.remove(connection.routeNode);
    }
  }

  /** Serves the route's queue, oldest first, as far as capacity allows. */
  serve(state: RouteState<C>): void {
    const core = this.#core;
    while (!core.closed) {
      const node = state.pending.first;
      if (node === null) break;
      const waiter = node.value;
      const connection = this.#takeReady(state);
      state.pending.remove(node);
      if (connection !== undefined) {
        if (connection.state === Ready) this.#grant(waiter, connection);
        else this.#assign(connection, waiter);
      } else if (!this.#placeNew(state, waiter)) {
        state.pending.unshift(node);
        return;
      }
    }
    this.starved.delete(state);
  }

  /** Capacity was freed on `state`'s route (a connection closed): offer it to the oldest waiter. */
  capacityFreed(state: RouteState<C>): void {
    if (state.pending.size > 0) this.starved.add(state);
    this.serveStarved();
  }

  /** Gives capacity freed under `maxTotal` to the routes that waited for it, oldest first. */
  serveStarved(): void {
    const core = this.#core;
    while (this.starved.size > 0 && !core.closed) {
      if (core.total >= core.maxTotal && core.idle.size === 0) return;
      let oldest: RouteState<C> | undefined;
      for (const state of this.starved) {
        const head = state.pending.first;
        if (head === null) this.starved.delete(state);
        else if (oldest === undefined || head.value.seq < oldest.pending.first!.value.seq) {
          oldest = state;
        }
      }
      if (oldest === undefined) return;
      this.starved.delete(oldest);
      this.serve(oldest);
      if (this.starved.has(oldest)) return;
    }
  }

  /**
   * Arrival number of the oldest waiter held back only by `maxTotal` (Infinity if none): its
   * route has room under `maxPerRoute`, so a connection closed elsewhere lets it open one.
   */
  #oldestStarvedSeq(releasing: RouteState<C>): number {
    let oldest = Infinity;
    for (const state of this.starved) {
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
  #newLease(connection: PooledConnection<C>): PoolLease<C> {
    const core = this.#core;
    const lease = new PoolLease<C>(core.owner, connection);
    if (core.hooks.lease !== undefined) {
      callHook(() => core.hooks.lease!(connection.route.key, lease.client));
    }
    return lease;
  }

  /** Settles a waiter with a lease on `connection` (load already counted). */
  #grant(waiter: LeaseWaiter<C>, connection: PooledConnection<C>): void {
    this.deadlines.remove(waiter);
    waiter.connection = null;
    waiter.grant(this.#newLease(connection));
  }

  /** A waiter gives up (deadline or abort): it leaves whatever it was in and fails. */
  abandon(waiter: LeaseWaiter<C>, error: unknown): void {
    if (waiter.settled) return;
    this.deadlines.remove(waiter);
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
    if (connection !== null) this.serve(state);
    else if (state.pending.size === 0) this.starved.delete(state);
  }

  /** A lease came back. */
  release(connection: PooledConnection<C>, reusable: boolean): void {
    const core = this.#core;
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
      (connection.load > 0 || this.starved.size === 0 ||
        head.value.seq <= this.#oldestStarvedSeq(connection.route))
    ) {
      state.pending.remove(head);
      if (state.pending.size === 0) this.starved.delete(state);
      connection.load++;
      state.leased++;
      this.#grant(head.value, connection);
      return;
    }
    if (connection.load === 0) {
      connection.routeNode.list?.remove(connection.routeNode);
      if (this.starved.size > 0 && this.#oldestStarvedSeq(state) !== Infinity) {
        core.retire(connection, "evicted-for-other-route");
      } else core.makeIdle(connection, core.clock.now());
    } else if (connection.routeNode.list === null) {
      state.partial.push(connection.routeNode);
    }
  }

  /** A connection became Ready (opened or validated): grant its waiters, then serve the queue. */
  activate(connection: PooledConnection<C>): void {
    const state = connection.route;
    state.joinable.remove(connection.routeNode);
    connection.state = Ready;
    const waiters = connection.waiters.drain();
    connection.load = waiters.length;
    state.leased += waiters.length;
    for (const waiter of waiters) this.#grant(waiter, connection);
    if (connection.load === 0) this.#core.makeIdle(connection, this.#core.clock.now());
    else if (connection.load < connection.maxStreams) state.partial.push(connection.routeNode);
    this.serve(state);
  }

  /** The connect for `connection` failed: every waiter counting on it fails with `error`. */
  connectFailed(connection: PooledConnection<C>, error: unknown): void {
    for (const waiter of connection.waiters.drain()) {
      this.deadlines.remove(waiter);
      waiter.connection = null;
      waiter.fail(error);
    }
  }

  /** The pool closes: every waiter of `state`'s route fails with `error`. */
  failRoute(state: RouteState<C>, error: PoolClosedError): void {
    for (let w = state.pending.shift(); w !== undefined; w = state.pending.shift()) w.fail(error);
    for (const connection of state.all) {
      for (const waiter of connection.waiters.drain()) waiter.fail(error);
    }
  }

  /** The pool closes: cancels every deadline timer and forgets starved routes. */
  stop(): void {
    this.deadlines.clear();
    this.starved.clear();
  }
}
