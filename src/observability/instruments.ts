/**
 * Ferry's OpenTelemetry instruments, created from `@opentelemetry/api`'s global `MeterProvider`.
 *
 * The API is a no-op until the application registers an SDK, so creating and using these costs
 * next to nothing without one. Instruments are created lazily and re-created when the global
 * provider changes (an SDK registered after Ferry was imported still gets Ferry's metrics: every
 * new connection, pool, server or gateway checks). Names follow OpenTelemetry's semantic
 * conventions where they define one (`rpc.client.duration`, `rpc.server.duration`, attributes
 * `rpc.*`, `network.*`, `server.address`, `error.type`); the rest live under `ferry.`. The table
 * is in docs/observability.md.
 *
 * @module
 */

import {
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  metrics,
  type ObservableResult,
} from "@opentelemetry/api";

/**
 * The instrumentation scope name every Ferry instrument is created under.
 *
 * @example
 * ```ts
 * import { metrics } from "@opentelemetry/api";
 * import { FERRY_METER_NAME } from "ferry-transport/observability";
 *
 * // The meter Ferry's instruments are created under (e.g. to select them in an SDK view).
 * const meter = metrics.getMeter(FERRY_METER_NAME);
 * console.log(meter);
 * ```
 */
export const FERRY_METER_NAME = "ferry";

/** What the observable instruments read when a reader collects. */
export interface ObservedState {
  /** Bytes moved by all connections so far, by role and direction. */
  networkIo(report: (bytes: number, role: string, direction: "receive" | "transmit") => void): void;
  /** Open connections by role and transport. */
  activeConnections(report: (count: number, role: string, transport: string) => void): void;
  /** Requests waiting for their reply, by side (client: sent; server: being served). */
  activeRequests(report: (count: number, side: "client" | "server") => void): void;
  /** Pool leases waiting, and connections leased / idle, per pool route. */
  pools(report: (route: string, pending: number, leased: number, available: number) => void): void;
  /** Each server budget: transfers in progress and allowed, reply bytes charged and allowed, replies waiting. */
  budgets(
    report: (
      inProgress: number,
      limit: number,
      replyBytes: number,
      replyLimit: number,
      waitingReplies: number,
    ) => void,
  ): void;
  /** Open gateway sessions per target. */
  gatewaySessions(report: (target: string, open: number) => void): void;
}

export interface FerryInstruments {
  readonly active: boolean;
  readonly connectionsOpened: Counter;
  readonly connectionsClosed: Counter;
  readonly connectionsRefused: Counter;
  readonly clientDuration: Histogram;
  readonly serverDuration: Histogram;
  readonly errors: Counter;
  readonly leaseWait: Histogram;
  readonly gatewaySessions: Counter;
  readonly heartbeatRtt: Histogram;
}

let state: ObservedState | undefined;
let meter: Meter | undefined;
let instruments: FerryInstruments | undefined;

/** Sets what the observable instruments read (once, by `observe.ts`). */
export function setObservedState(observed: ObservedState): void {
  state = observed;
}

/**
 * The instruments of the current global MeterProvider. Called where a connection, pool, server
 * or gateway is created, never per message: `getMeter` is a lookup in the provider.
 */
export function currentInstruments(): FerryInstruments {
  const current = metrics.getMeter(FERRY_METER_NAME);
  if (current === meter && instruments !== undefined) return instruments;
  meter = current;
  instruments = create(current, current !== createNoopMeter());
  return instruments;
}

/** The instruments last created (no provider lookup); for event paths after creation. */
export function lastInstruments(): FerryInstruments {
  return instruments ?? currentInstruments();
}

const MS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

function create(meter: Meter, active: boolean): FerryInstruments {
  const created: FerryInstruments = {
    active,
    connectionsOpened: meter.createCounter("ferry.connection.opened", {
      description: "Connections opened (client) or accepted (server)",
      unit: "{connection}",
    }),
    connectionsClosed: meter.createCounter("ferry.connection.closed", {
      description: "Connections ended; error.type is the cause's code for a failed one",
      unit: "{connection}",
    }),
    connectionsRefused: meter.createCounter("ferry.connection.refused", {
      description: "Accepted sockets a server could not serve",
      unit: "{connection}",
    }),
    clientDuration: meter.createHistogram("rpc.client.duration", {
      description: "Requests this side sent: time from the request to its reply",
      unit: "ms",
      advice: { explicitBucketBoundaries: MS_BUCKETS },
    }),
    serverDuration: meter.createHistogram("rpc.server.duration", {
      description: "Requests this side served: time from the request to its reply",
      unit: "ms",
      advice: { explicitBucketBoundaries: MS_BUCKETS },
    }),
    errors: meter.createCounter("ferry.errors", {
      description: "Failures by error.type and where they were seen (ferry.error.source)",
      unit: "{error}",
    }),
    leaseWait: meter.createHistogram("ferry.pool.lease.wait_duration", {
      description: "Time a pool lease waited for a connection (leases served at once excluded)",
      unit: "ms",
      advice: { explicitBucketBoundaries: MS_BUCKETS },
    }),
    gatewaySessions: meter.createCounter("ferry.gateway.session.events", {
      description: "Gateway sessions opened, closed (by close code) and refused",
      unit: "{session}",
    }),
    heartbeatRtt: meter.createHistogram("ferry.heartbeat.rtt", {
      description: "Ferry heartbeat round trips (ping to pong)",
      unit: "ms",
      advice: { explicitBucketBoundaries: MS_BUCKETS },
    }),
  };
  if (active) observe(meter);
  return created;
}

function observe(meter: Meter): void {
  meter.createObservableCounter("ferry.network.io", {
    description: "Bytes received and sent by all connections (frames and bodies)",
    unit: "By",
  }).addCallback((result: ObservableResult) => {
    state?.networkIo((bytes, role, direction) =>
      result.observe(bytes, { "ferry.connection.role": role, "network.io.direction": direction })
    );
  });
  meter.createObservableUpDownCounter("ferry.connection.active", {
    description: "Open connections",
    unit: "{connection}",
  }).addCallback((result) => {
    state?.activeConnections((count, role, transport) =>
      result.observe(count, { "ferry.connection.role": role, "network.transport": transport })
    );
  });
  meter.createObservableUpDownCounter("ferry.requests.active", {
    description: "Requests in flight: sent and awaiting a reply (client), or being served (server)",
    unit: "{request}",
  }).addCallback((result) => {
    state?.activeRequests((count, side) => result.observe(count, { "ferry.side": side }));
  });
  const pending = meter.createObservableUpDownCounter("ferry.pool.leases.pending", {
    description: "Pool leases waiting for a connection",
    unit: "{lease}",
  });
  const leased = meter.createObservableUpDownCounter("ferry.pool.connections", {
    description: "Pooled connections by state (leased, idle)",
    unit: "{connection}",
  });
  meter.addBatchObservableCallback((result) => {
    state?.pools((route, waiting, inUse, idle) => {
      result.observe(pending, waiting, { "ferry.pool.route": route });
      result.observe(leased, inUse, { "ferry.pool.route": route, "ferry.pool.state": "leased" });
      result.observe(leased, idle, { "ferry.pool.route": route, "ferry.pool.state": "idle" });
    });
  }, [pending, leased]);
  const transfers = meter.createObservableUpDownCounter("ferry.server.transfers.active", {
    description: "Chunks and streams being transferred (the maxChunksBeingTransferred budget)",
    unit: "{transfer}",
  });
  const transferLimit = meter.createObservableUpDownCounter("ferry.server.transfers.limit", {
    description: "Transfers allowed at once (maxChunksBeingTransferred)",
    unit: "{transfer}",
  });
  const replyMemory = meter.createObservableUpDownCounter("ferry.server.reply_memory.usage", {
    description:
      "Reply bytes read from sources and not yet handed to sockets (maxReplyBytes budget)",
    unit: "By",
  });
  const replyLimit = meter.createObservableUpDownCounter("ferry.server.reply_memory.limit", {
    description: "Reply bytes allowed at once (maxReplyBytes)",
    unit: "By",
  });
  const waitingReplies = meter.createObservableUpDownCounter("ferry.server.replies.waiting", {
    description: "Chunk and stream replies accepted and waiting for reply memory or their window",
    unit: "{reply}",
  });
  meter.addBatchObservableCallback((result) => {
    const totals = [0, 0, 0, 0, 0];
    state?.budgets((...values) => values.forEach((value, i) => totals[i]! += value));
    result.observe(transfers, totals[0]!);
    result.observe(transferLimit, totals[1]!);
    result.observe(replyMemory, totals[2]!);
    result.observe(replyLimit, totals[3]!);
    result.observe(waitingReplies, totals[4]!);
  }, [transfers, transferLimit, replyMemory, replyLimit, waitingReplies]);
  meter.createObservableUpDownCounter("ferry.gateway.sessions.active", {
    description: "Open gateway sessions per target",
    unit: "{session}",
  }).addCallback((result) => {
    state?.gatewaySessions((target, open) =>
      result.observe(open, { "ferry.gateway.target": target })
    );
  });
}
