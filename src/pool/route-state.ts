/**
 * Everything the pool keeps per route key: resolved settings, counts, the lists that make every
 * lease decision O(1), the FIFO queue of waiting leases, connect backoff and the byte budget.
 *
 * Lists (each connection is in at most one, through `routeNode`):
 * - `idle`: Ready, no lease; ordered by when they became idle (LIFO reuse takes the back).
 * - `partial`: Ready, some leases, room for more (shared connections only).
 * - `joinable`: Opening or Validating with room for more waiters.
 * A Ready connection at capacity, or draining after its TTL, is in no list.
 *
 * @module
 */

import type { ByteBudget } from "./byte-budget.ts";
import type { ConnectBackoff } from "./connect-backoff.ts";
import { IntrusiveList } from "./intrusive-list.ts";
import type { LeaseWaiter } from "./lease-waiter.ts";
import type { PooledClient, RouteSettings } from "./pool-options.ts";
import type { PooledConnection } from "./pooled-connection.ts";
import type { Route } from "./route.ts";

/** The pool's state for one route key. */
export class RouteState<C extends PooledClient> {
  readonly key: string;
  /** The route value the key was first seen with; passed to the connector. */
  readonly route: Route;
  settings: RouteSettings;
  readonly backoff: ConnectBackoff;
  /** Connections not closed (Opening, Validating, Ready). */
  connections = 0;
  /** Connections Opening. */
  opening = 0;
  /** Leases held on Ready connections. */
  leased = 0;
  readonly idle: IntrusiveList<PooledConnection<C>> = new IntrusiveList<PooledConnection<C>>();
  readonly partial: IntrusiveList<PooledConnection<C>> = new IntrusiveList<PooledConnection<C>>();
  readonly joinable: IntrusiveList<PooledConnection<C>> = new IntrusiveList<PooledConnection<C>>();
  /** Waiting leases, oldest first. */
  readonly pending: IntrusiveList<LeaseWaiter<C>> = new IntrusiveList<LeaseWaiter<C>>();
  /** Every connection not closed, for stats and close(). */
  readonly all: Set<PooledConnection<C>> = new Set<PooledConnection<C>>();
  budget: ByteBudget | undefined = undefined;

  constructor(key: string, route: Route, settings: RouteSettings, backoff: ConnectBackoff) {
    this.key = key;
    this.route = route;
    this.settings = settings;
    this.backoff = backoff;
  }

  /** Leases waiting for this route: queued, or assigned to a connection opening/validating. */
  get waiting(): number {
    let assigned = 0;
    for (const connection of this.all) assigned += connection.waiters.size;
    return this.pending.size + assigned;
  }
}
