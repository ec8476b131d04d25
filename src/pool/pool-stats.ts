/**
 * `ConnectionPool.stats()`: a snapshot of counts, in total and per route, computed on demand (the
 * pool keeps live counters; nothing is maintained for stats on the lease path).
 *
 * @module
 */

import type { PooledClient } from "./pool-options.ts";
import type { RouteState } from "./route-state.ts";

/** Counts for one route, or for the whole pool. */
export interface RouteStats {
  /** Leases currently held. */
  readonly leased: number;
  /** Idle connections ready to be leased. */
  readonly available: number;
  /** Leases waiting (queued, or waiting for a connection being opened or validated). */
  readonly pending: number;
  /** Connections being opened (connector and bootstraps). */
  readonly connecting: number;
  /** Connections open or opening. */
  readonly connections: number;
  /** The connection limit: `maxPerRoute` for a route, `maxTotal` for the pool. */
  readonly max: number;
}

/** Totals and per-route counts, keyed by route key. */
export interface PoolStats {
  readonly total: RouteStats;
  readonly routes: Readonly<Record<string, RouteStats>>;
}

/** Builds a {@linkcode PoolStats} snapshot. */
export function collectStats<C extends PooledClient>(
  states: Iterable<RouteState<C>>,
  totalConnections: number,
  maxTotal: number,
): PoolStats {
  const routes: Record<string, RouteStats> = {};
  let leased = 0;
  let available = 0;
  let pending = 0;
  let connecting = 0;
  for (const state of states) {
    const route: RouteStats = {
      leased: state.leased,
      available: state.idle.size,
      pending: state.waiting,
      connecting: state.opening,
      connections: state.connections,
      max: state.settings.maxPerRoute,
    };
    routes[state.key] = route;
    leased += route.leased;
    available += route.available;
    pending += route.pending;
    connecting += route.connecting;
  }
  return {
    total: { leased, available, pending, connecting, connections: totalConnections, max: maxTotal },
    routes,
  };
}
