/**
 * Where Ferry publishes its observability events besides OpenTelemetry: named channels in the
 * spirit of Node's `diagnostics_channel` (undici publishes `undici:request:create` and friends).
 *
 * `src/` stays runtime-neutral, so it never imports `node:diagnostics_channel`: it publishes to a
 * {@linkcode FerryEventSink} that a runtime adapter installs (the Node adapter installs one backed
 * by `diagnostics_channel` as soon as it is imported). Without a sink, or while a channel has no
 * subscriber, publishing costs one property read and builds no message.
 *
 * @module
 */

/**
 * The channels Ferry publishes on; each message's shape is documented in docs/observability.md.
 *
 * @example
 * ```ts
 * import {
 *   FerryEventListeners,
 *   ferryChannelNames,
 *   installFerryEventSink,
 * } from "ferry-transport/observability";
 *
 * // Any runtime; in Node, importing "ferry-transport/node" publishes on diagnostics_channel too.
 * const events = new FerryEventListeners();
 * installFerryEventSink(events);
 * events.subscribe(ferryChannelNames.connectionOpen, (message) => {
 *   console.log("connection opened", message);
 * });
 * ```
 */
export const ferryChannelNames = {
  /** A connection opened (either role). Message: a {@linkcode ConnectionEvent}. */
  connectionOpen: "ferry:connection:open",
  /** A connection ended. Message: the same {@linkcode ConnectionEvent}, `error` set. */
  connectionClose: "ferry:connection:close",
  /** A server could not serve an accepted socket. Message: `{ remoteAddress, error }`. */
  connectionRefused: "ferry:connection:refused",
  /** This side sent a request. Message: a {@linkcode RequestEvent}. */
  clientRequest: "ferry:client:request",
  /** The reply to a request this side sent arrived (or never will). Same object, ended. */
  clientResponse: "ferry:client:response",
  /** The peer sent a request this side serves. Message: a {@linkcode RequestEvent}. */
  serverRequest: "ferry:server:request",
  /** This side replied to a request it served (or never will). Same object, ended. */
  serverResponse: "ferry:server:response",
  /** A pool lease that had to wait settled. Message: `{ route, waitMs, error? }`. */
  poolLease: "ferry:pool:lease",
  /** A gateway session opened, closed or was refused. Message: the `GatewayEvent`. */
  gatewaySession: "ferry:gateway:session",
  /** A Ferry heartbeat was answered or missed. Message: `{ remoteAddress, rttMs, error? }`. */
  heartbeat: "ferry:heartbeat",
} as const;

export type FerryChannelName = (typeof ferryChannelNames)[keyof typeof ferryChannelNames];

/** One channel of a sink: `diagnostics_channel.Channel` satisfies it as it is. */
export interface FerryEventChannel {
  /** Whether publishing would reach anyone (read before building a message). */
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/** What a runtime adapter installs: a channel by name. */
export interface FerryEventSink {
  channel(name: FerryChannelName): FerryEventChannel;
}

/** Who sees a connection: the side that opened it, or the side that accepted it. */
export type ConnectionRole = "client" | "server";

/** The message of `ferry:connection:open` / `ferry:connection:close` (the same object). */
export interface ConnectionEvent {
  readonly role: ConnectionRole;
  /** `tcp`, `tls`, `ws`, `wss`, `memory`, ... */
  readonly transport: string;
  readonly remoteAddress: string;
  /** Set on close: the cause (undefined for a graceful close). */
  error?: unknown;
}

/**
 * The message of the request channels: published when the request is seen, and the same object
 * again, completed, when it ends (correlate by identity, as with undici's request objects).
 */
export interface RequestEvent {
  /** The message type that started it: `RpcRequest`, `ChunkFetchRequest`, `StreamRequest`, ... */
  readonly type: string;
  readonly remoteAddress: string;
  readonly transport: string;
  /** RPCs, uploads and merged-block-meta requests. */
  readonly requestId?: number;
  /** Chunk fetches and stream requests. */
  readonly streamId?: number | string;
  readonly chunkIndex?: number;
  /** `performance.now()` when the request was sent (client) or received (server). */
  readonly startTime: number;
  /**
   * The connection it went over: the same object `ferry:connection:open` published (correlate by
   * identity; several connections may share a `remoteAddress`, e.g. gateway sessions).
   */
  readonly connection?: ConnectionEvent;
  /**
   * Client side, set when it ends with a reply: `performance.now()` when the reply frame's first
   * bytes arrived (at the granularity of socket reads). The reply's last byte is at
   * `startTime + durationMs` for replies that are one frame (chunk fetches, RPCs).
   */
  firstByteTime?: number;
  /** Set when it ends: milliseconds from the request to its reply header. */
  durationMs?: number;
  /**
   * Set when it failed: the failure reply's type (`RpcFailure`, `ChunkFetchFailure`,
   * `StreamFailure`) or the error code that ended it (`ERR_CONNECTION_CLOSED`, ...).
   */
  errorType?: string;
}

const silent: FerryEventChannel = { hasSubscribers: false, publish() {} };

type Channels = Record<keyof typeof ferryChannelNames, FerryEventChannel>;

/**
 * Publishing runs on Ferry's own paths (inside a connection's send and dispatch): a sink or
 * subscriber that throws must not break the connection, so what it throws is dropped.
 */
function guarded(channel: FerryEventChannel): FerryEventChannel {
  return {
    get hasSubscribers() {
      return channel.hasSubscribers;
    },
    publish(message) {
      try {
        channel.publish(message);
      } catch {
        // Observability never fails the transport.
      }
    },
  };
}

function channelsOf(sink: FerryEventSink | undefined): Channels {
  const out = {} as Record<string, FerryEventChannel>;
  for (const [key, name] of Object.entries(ferryChannelNames)) {
    out[key] = sink === undefined ? silent : guarded(sink.channel(name));
  }
  return out as Channels;
}

/** The channels in use (silent until a sink is installed). Read `.hasSubscribers` first. */
export let ferryChannels: Readonly<Channels> = channelsOf(undefined);

/**
 * Installs the sink Ferry publishes to (`undefined` removes it). Runtime adapters call this; an
 * application may install its own (e.g. to forward events to a browser page's timeline).
 *
 * @example
 * ```ts
 * import { type FerryChannelName, installFerryEventSink } from "ferry-transport/observability";
 *
 * // A page's own sink: every event goes to the console, tagged with its channel.
 * installFerryEventSink({
 *   channel: (name: FerryChannelName) => ({
 *     hasSubscribers: true,
 *     publish: (message: unknown) => console.debug(name, message),
 *   }),
 * });
 * ```
 */
export function installFerryEventSink(sink: FerryEventSink | undefined): void {
  ferryChannels = channelsOf(sink);
}

/** Whether any channel has a subscriber right now (connections opened then are tapped). */
export function anyChannelSubscribed(): boolean {
  for (const channel of Object.values(ferryChannels)) if (channel.hasSubscribers) return true;
  return false;
}
