/**
 * The pool's lease scheduling, in one place: who gets a connection, who waits, in what order,
 * and for how long. Everything else in `src/pool` opens, validates, counts or closes
 * connections (`pool-core.ts`, `pool-connector.ts`); this class decides leases. It owns three
 * helpers: `lease-placement.ts` (which connection a lease takes: a ready one, an idle one, one
 * being opened, or a new one), `lease-waiter.ts` (one waiting lease) and `deadline-queue.ts`
 * (lease deadlines).
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
import { LeasePlacement } from "./lease-placement.ts";
import { LeaseWaiter } from "./lease-waiter.ts";
import type { PoolCore } from "./pool-core.ts";
import { callHook } from "./pool-core.ts";
import type { PoolClosedError } from "./pool-errors.ts";
import { PoolLease } from "./pool-lease.ts";
import type { PooledClient } from "./pool-options.ts";
import { ConnectionState, type PooledConnection } from "./pooled-connection.ts";
import type { RouteState } from "./route-state.ts";

const { Ready } = ConnectionState;

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
  readonly #placement: LeasePlacement<C>;
  /** Arrival counter of waiters, pool-wide. */
  #seq = 0;

  constructor(core: PoolCore<C>) {
    this.#core = core;
    this.deadlines = new DeadlineQueues<LeaseWaiter<C>>(core.clock, (waiter, timeoutMs) => {
      this.abandon(waiter, core.timeoutError(waiter.route, timeoutMs));
    });
    this.#placement = new LeasePlacement<C>(core, this.starved, this.deadlines);
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
      connection = this.#placement.takeReady(state);
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
    if (connection !== undefined) this.#placement.assign(connection, waiter);
    else if (state.pending.size > 0 || !this.#placement.placeNew(state, waiter)) {
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

  /** Serves the route's queue, oldest first, as far as capacity allows. */
  serve(state: RouteState<C>): void {
    const core = this.#core;
    while (!core.closed) {
      const node = state.pending.first;
      if (node === null) break;
      const waiter = node.value;
      const connection = this.#placement.takeReady(state);
      state.pending.remove(node);
      if (connection !== undefined) {
        if (connection.state === Ready) this.#grant(waiter, connection);
        else this.#placement.assign(connection, waiter);
      } else if (!this.#placement.placeNew(state, waiter)) {
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
