/**
 * A `lease()` call that could not be granted at once. It sits in exactly one place: its route's
 * FIFO queue, or the waiter list of the connection being opened or validated for it; and, when
 * it has a deadline, in one deadline queue. All memberships are list cells it owns, so leaving
 * any of them (grant, timeout, abort, close) is O(1).
 *
 * @module
 */

import type { Expirable } from "./deadline-queue.ts";
import { ListNode } from "./intrusive-list.ts";
import type { PoolLease } from "./pool-lease.ts";
import type { PooledClient } from "./pool-options.ts";
import type { PooledConnection } from "./pooled-connection.ts";
import type { RouteState } from "./route-state.ts";

/** One waiting lease. */
export class LeaseWaiter<C extends PooledClient> extends ListNode<LeaseWaiter<C>>
  implements Expirable {
  readonly route: RouteState<C>;
  /** Arrival order across the pool (FIFO between routes competing for `maxTotal`). */
  readonly seq: number;
  deadline = Infinity;
  deadlinePrev: Expirable | null = null;
  deadlineNext: Expirable | null = null;
  deadlineQueue: object | null = null;
  /** The connection it is assigned to while that one opens or validates. */
  connection: PooledConnection<C> | null = null;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  settled = false;
  readonly #resolve: (lease: PoolLease<C>) => void;
  readonly #reject: (error: unknown) => void;

  constructor(
    route: RouteState<C>,
    seq: number,
    resolve: (lease: PoolLease<C>) => void,
    reject: (error: unknown) => void,
  ) {
    super();
    this.route = route;
    this.seq = seq;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Its cell in the route queue or a connection's waiter list (the waiter itself). */
  get node(): ListNode<LeaseWaiter<C>> {
    return this;
  }

  /** Settles with a lease. The caller has already removed it from every list. */
  grant(lease: PoolLease<C>): void {
    this.#settle();
    this.#resolve(lease);
  }

  /** Settles with an error. The caller has already removed it from every list. */
  fail(error: unknown): void {
    this.#settle();
    this.#reject(error);
  }

  #settle(): void {
    this.settled = true;
    if (this.onAbort !== undefined) {
      this.signal!.removeEventListener("abort", this.onAbort);
      this.onAbort = undefined;
    }
  }
}
