/**
 * The pool's record of one connection: its state, how many leases it carries (or, while opening
 * or validating, how many waiters are counting on it), its lifetime stamps, and the list cells
 * that place it in its route's lists and the pool's idle list without allocation.
 *
 * States: `Opening` (connector and bootstraps running) → `Ready` ⇄ `Validating` (a liveness
 * check after inactivity) → `Closed`. Only `Ready` connections are handed out.
 *
 * @module
 */

import type { ListNode as ListNodeType } from "./intrusive-list.ts";
import { IntrusiveList, ListNode } from "./intrusive-list.ts";
import type { LeaseWaiter } from "./lease-waiter.ts";
import type { PooledClient, PooledConnectionInfo } from "./pool-options.ts";
import type { RouteState } from "./route-state.ts";

/** Connection states. */
export const ConnectionState = {
  Opening: 0,
  Validating: 1,
  Ready: 2,
  Closed: 3,
} as const;

export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** One connection owned by the pool. */
export class PooledConnection<C extends PooledClient> implements PooledConnectionInfo {
  readonly id: number;
  readonly route: RouteState<C>;
  /** Concurrent leases this connection carries at most (fixed when it was opened). */
  readonly maxStreams: number;
  readonly peerFeatures: Set<string>;
  /** Clock time the connect started. */
  readonly startedAt: number;
  state: ConnectionState = ConnectionState.Opening;
  client: C | undefined = undefined;
  /** Leases held (Ready) or waiters assigned (Opening, Validating). */
  load = 0;
  /** Expired while leased: no new leases; closes when the last one is released. */
  draining = false;
  createdAt = 0;
  expiresAt = Infinity;
  idleSince = 0;
  /** Membership in the route's `idle`, `partial` or `joinable` list. */
  readonly routeNode: ListNodeType<PooledConnection<C>>;
  /** Membership in the pool's idle list (oldest idle first). */
  readonly idleNode: ListNodeType<PooledConnection<C>>;
  /** Waiters that will get a lease once Opening/Validating succeeds. */
  readonly waiters: IntrusiveList<LeaseWaiter<C>> = new IntrusiveList<LeaseWaiter<C>>();

  constructor(id: number, route: RouteState<C>, startedAt: number) {
    this.id = id;
    this.route = route;
    this.maxStreams = route.settings.maxStreamsPerConnection;
    this.peerFeatures = new Set(route.settings.peerFeatures);
    this.startedAt = startedAt;
    this.routeNode = new ListNode<PooledConnection<C>>(this);
    this.idleNode = new ListNode<PooledConnection<C>>(this);
  }

  get routeKey(): string {
    return this.route.key;
  }
}
