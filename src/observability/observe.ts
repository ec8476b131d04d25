/**
 * The hook points: what the connection, server, pool, gateway and heartbeat code calls (one line
 * each) so that Ferry's metrics and channels see them. Everything here is per connection, pool or
 * session, never per message (per-message work is the {@linkcode ConnectionTap}'s, and exists
 * only while something listens).
 *
 * Gauges (open connections, bytes moved, requests in flight, pool waiters, transfers, gateway
 * sessions) read the objects' own counters when a reader collects, so they cost nothing between
 * collections. Servers, pools and gateways are held weakly: observing never keeps one alive.
 *
 * @module
 */

import type { SocketClosed, SocketInfo } from "../socket.ts";
import { ConnectionTap, type MessageTap } from "./connection-tap.ts";
import {
  anyChannelSubscribed,
  type ConnectionEvent,
  type ConnectionRole,
  ferryChannels,
} from "./event-sink.ts";
import { currentInstruments, lastInstruments, setObservedState } from "./instruments.ts";
import { activeTracer } from "./tracing.ts";

/** What an observed connection offers (a `TransportClient`). */
export interface ObservedClient {
  stats(): { readonly bytesReceived: number; readonly bytesSent: number };
}

interface PoolLike {
  stats(): {
    readonly routes: Readonly<
      Record<
        string,
        { readonly pending: number; readonly leased: number; readonly available: number }
      >
    >;
  };
}

interface GatewayLike {
  stats(): { readonly targets: Readonly<Record<string, number>> };
}

/** A server's admission budgets (`TransferBudget`): transfers at once and reply memory. */
interface BudgetLike {
  readonly inProgress: number;
  readonly limit: number;
  readonly replyMemory: {
    readonly charged: number;
    readonly limit: number;
    readonly waitingReplies: number;
  };
}

interface GatewayEventLike {
  readonly type: string;
  readonly target?: string;
  readonly closeCode?: number;
  readonly reason?: string;
}

/** Open connections and their events (their taps are in `taps`): no object of its own each. */
const live = new Map<ObservedClient, ConnectionEvent>();
/** The tap of each observed connection, for extensions that act on it. */
const taps = new WeakMap<object, ConnectionTap>();
/**
 * The connection event of every connection that has ended, by its client (an open one's is in
 * `live`: an idle connection is not held in both).
 */
const connectionEvents = new WeakMap<object, ConnectionEvent>();
/** Bytes of connections that have ended, by role: the byte counters stay monotonic. */
const retired = {
  client: { receive: 0, transmit: 0 },
  server: { receive: 0, transmit: 0 },
};
const pools = new Set<WeakRef<PoolLike>>();
const budgets = new Set<WeakRef<BudgetLike>>();
/** Budgets already observed (a budget may be shared by several servers). */
const budgetSeen = new WeakSet<BudgetLike>();
const gateways = new Set<WeakRef<GatewayLike>>();
let acceptingRole: ConnectionRole = "client";
/** `role transport` pairs seen (a handful: roles × transports). */
const connectionKinds = new Set<string>();
/** Pool routes and gateway targets seen (configured names, not peer input). */
const poolRoutes = new Set<string>();
const gatewayTargets = new Set<string>();

function* alive<T extends object>(refs: Set<WeakRef<T>>): Generator<T> {
  for (const ref of refs) {
    const target = ref.deref();
    if (target === undefined) refs.delete(ref);
    else yield target;
  }
}

setObservedState({
  networkIo(report) {
    const totals = {
      client: { ...retired.client },
      server: { ...retired.server },
    };
    for (const [client, event] of live) {
      const stats = client.stats();
      totals[event.role].receive += stats.bytesReceived;
      totals[event.role].transmit += stats.bytesSent;
    }
    for (const role of ["client", "server"] as const) {
      report(totals[role].receive, role, "receive");
      report(totals[role].transmit, role, "transmit");
    }
  },
  activeConnections(report) {
    // Kinds seen before report 0 when none is open: a reader keeps a series' last value.
    const counts = new Map<string, number>([...connectionKinds].map((kind) => [kind, 0]));
    for (const event of live.values()) {
      const key = `${event.role} ${event.transport}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, count] of counts) {
      const [role, transport] = key.split(" ") as [string, string];
      report(count, role, transport);
    }
  },
  activeRequests(report) {
    let client = 0;
    let server = 0;
    for (const observed of live.keys()) {
      const tap = taps.get(observed);
      client += tap?.outbound.size ?? 0;
      server += tap?.inbound.size ?? 0;
    }
    report(client, "client");
    report(server, "server");
  },
  pools(report) {
    // Summed over pools by route; routes seen before report 0 (a reader keeps a series' last value).
    const routes = new Map<string, [number, number, number]>(
      [...poolRoutes].map((route) => [route, [0, 0, 0]]),
    );
    for (const pool of alive(pools)) {
      for (const [route, stats] of Object.entries(pool.stats().routes)) {
        poolRoutes.add(route);
        const sum = routes.get(route) ?? [0, 0, 0];
        routes.set(route, [
          sum[0] + stats.pending,
          sum[1] + stats.leased,
          sum[2] + stats.available,
        ]);
      }
    }
    for (const [route, [pending, leased, available]] of routes) {
      report(route, pending, leased, available);
    }
  },
  budgets(report) {
    for (const budget of alive(budgets)) {
      const memory = budget.replyMemory;
      report(budget.inProgress, budget.limit, memory.charged, memory.limit, memory.waitingReplies);
    }
  },
  gatewaySessions(report) {
    const targets = new Map<string, number>([...gatewayTargets].map((target) => [target, 0]));
    for (const gateway of alive(gateways)) {
      for (const [target, open] of Object.entries(gateway.stats().targets)) {
        gatewayTargets.add(target);
        targets.set(target, (targets.get(target) ?? 0) + open);
      }
    }
    for (const [target, open] of targets) report(target, open);
  },
});

/** A stable, low-cardinality name for an error: its Ferry code, else its name. */
export function errorType(error: unknown): string {
  if (error !== null && typeof error === "object") {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.length > 0 && code.length <= 64) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === "string" && name.length > 0 && name.length <= 64) return name;
  }
  return "Error";
}

/**
 * Runs `create` (which constructs a connection) as the accepting side: connections constructed
 * inside are counted with role `server`. Synchronous, so no other construction interleaves.
 */
export function asServerSide<T>(create: () => T): T {
  acceptingRole = "server";
  try {
    return create();
  } finally {
    acceptingRole = "client";
  }
}

/**
 * A connection was created: counts it, publishes `ferry:connection:open`, and returns the tap its
 * messages should go to (undefined when nothing listens). Its end is reported by
 * {@linkcode observeConnectionEnded} (the connection calls it as its socket ends: no promise or
 * callback is held per connection meanwhile).
 */
export function observeConnection(
  client: ObservedClient,
  info: SocketInfo,
): MessageTap | undefined {
  const instruments = currentInstruments();
  const event: ConnectionEvent = {
    role: acceptingRole,
    transport: info.transport,
    remoteAddress: info.remoteAddress,
  };
  const tracer = activeTracer();
  const tap = instruments.active || tracer !== undefined || anyChannelSubscribed()
    ? new ConnectionTap(event, instruments, undefined, tracer)
    : undefined;
  if (tap !== undefined) taps.set(client, tap);
  live.set(client, event);
  connectionKinds.add(`${event.role} ${event.transport}`);
  instruments.connectionsOpened.add(1, connectionAttributes(event));
  if (ferryChannels.connectionOpen.hasSubscribers) ferryChannels.connectionOpen.publish(event);
  return tap;
}

/**
 * `client`'s connection (observed by {@linkcode observeConnection}) has ended with `closed`:
 * retires its bytes, counts and publishes the close. Once per connection; later calls are ignored.
 */
export function observeConnectionEnded(client: ObservedClient, closed: SocketClosed): void {
  const event = live.get(client);
  if (event !== undefined) connectionEnded(client, event, closed);
}

/** The attributes of a connection's open and close counts. */
function connectionAttributes(event: ConnectionEvent): Record<string, string> {
  return { "ferry.connection.role": event.role, "network.transport": event.transport };
}

/** `client`'s connection has ended: retires its bytes, counts and publishes the close. */
function connectionEnded(
  client: ObservedClient,
  event: ConnectionEvent,
  closed: SocketClosed,
): void {
  const tap = taps.get(client);
  live.delete(client);
  connectionEvents.set(client, event);
  const stats = client.stats();
  retired[event.role].receive += stats.bytesReceived;
  retired[event.role].transmit += stats.bytesSent;
  event.error = closed.error;
  tap?.close("ERR_CONNECTION_CLOSED");
  const ended = lastInstruments();
  const attributes = connectionAttributes(event);
  if (closed.error === undefined) {
    ended.connectionsClosed.add(1, attributes);
  } else {
    const type = errorType(closed.error);
    ended.connectionsClosed.add(1, { ...attributes, "error.type": type });
    ended.errors.add(1, { "error.type": type, "ferry.error.source": "connection" });
  }
  if (ferryChannels.connectionClose.hasSubscribers) ferryChannels.connectionClose.publish(event);
}

/**
 * The object `ferry:connection:open` published for `client`'s connection (and that its request
 * events carry as `connection`): lets a subscriber tell which of its own clients a request event
 * belongs to. Undefined for an object that is not a Ferry connection's client.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { connectionEventOf, FerryEventListeners, installFerryEventSink } from "ferry-transport/observability";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const events = new FerryEventListeners();
 * installFerryEventSink(events);
 * const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: 7337 }));
 * const mine = connectionEventOf(client);
 * events.subscribe("ferry:client:response", (request) => {
 *   if (request.connection === mine) console.log(request.type, request.durationMs);
 * });
 * ```
 */
export function connectionEventOf(client: object): ConnectionEvent | undefined {
  return live.get(client as ObservedClient) ?? connectionEvents.get(client);
}

/** The tap of an observed connection (undefined when it opened while nothing listened). */
export function tapOf(client: object): ConnectionTap | undefined {
  return taps.get(client);
}

/** A server could not serve a socket it accepted. */
export function observeRefusedConnection(remoteAddress: string, error: unknown): void {
  const type = errorType(error);
  lastInstruments().connectionsRefused.add(1, { "error.type": type });
  const channel = ferryChannels.connectionRefused;
  if (channel.hasSubscribers) channel.publish({ remoteAddress, error });
}

/** A server was created: its admission budgets (transfers, reply memory) become gauges. */
export function observeServerBudget(budget: BudgetLike): void {
  currentInstruments();
  if (budgetSeen.has(budget)) return;
  budgetSeen.add(budget);
  budgets.add(new WeakRef(budget));
}

/** A pool was created: its waiting leases and connections become gauges. */
export function observePool(pool: PoolLike): void {
  currentInstruments();
  pools.add(new WeakRef(pool));
}

/** A lease had to wait: times it (only while something listens). */
export function observeLeaseWait(route: string, lease: Promise<unknown>): void {
  const instruments = lastInstruments();
  const channel = ferryChannels.poolLease;
  if (!instruments.active && !channel.hasSubscribers) return;
  // Seen now, not only at a collection: a route idle again by the next scrape still reports 0.
  poolRoutes.add(route);
  const started = performance.now();
  const done = (error?: unknown) => {
    const waitMs = performance.now() - started;
    const attributes: Record<string, string> = { "ferry.pool.route": route };
    if (error !== undefined) attributes["error.type"] = errorType(error);
    instruments.leaseWait.record(waitMs, attributes);
    if (channel.hasSubscribers) {
      channel.publish(error === undefined ? { route, waitMs } : { route, waitMs, error });
    }
  };
  lease.then(() => done(), (error) => done(error ?? new Error("lease rejected")));
}

/**
 * A gateway was created: its sessions become a gauge, and its events (`onEvent`'s) are counted
 * and published. Returns the event function the gateway should call (forwarding to `onEvent`).
 */
export function observeGateway<E extends GatewayEventLike>(
  gateway: GatewayLike,
  onEvent: ((event: E) => void) | undefined,
): (event: E) => void {
  currentInstruments();
  gateways.add(new WeakRef(gateway));
  return (event) => {
    const attributes: Record<string, string | number> = { "ferry.gateway.event": event.type };
    if (event.target !== undefined) {
      attributes["ferry.gateway.target"] = event.target;
      if (event.type === "session-open") gatewayTargets.add(event.target);
    }
    if (event.closeCode !== undefined) attributes["ferry.gateway.close_code"] = event.closeCode;
    lastInstruments().gatewaySessions.add(1, attributes);
    const channel = ferryChannels.gatewaySession;
    if (channel.hasSubscribers) channel.publish(event);
    onEvent?.(event);
  };
}

/** A heartbeat ping settled `started` (a `performance.now()`) ago; `error` when it was missed. */
export function observeHeartbeat(remoteAddress: string, started: number, error?: unknown): void {
  const instruments = lastInstruments();
  const channel = ferryChannels.heartbeat;
  if (!instruments.active && !channel.hasSubscribers) return;
  const rttMs = performance.now() - started;
  if (error === undefined) {
    instruments.heartbeatRtt.record(rttMs);
  } else {
    instruments.errors.add(1, {
      "error.type": errorType(error),
      "ferry.error.source": "heartbeat",
    });
  }
  if (channel.hasSubscribers) {
    channel.publish(
      error === undefined ? { remoteAddress, rttMs } : { remoteAddress, rttMs, error },
    );
  }
}
