/**
 * A client's options made ready once: resolved (`resolveClientOptions`) and turned into its
 * connection's `ConnectionOptions`. A `TransportServer` gives every connection it accepts the same
 * frozen options object, so thousands of connections share one preparation instead of two objects
 * each.
 *
 * @module
 */

import type { ConnectionOptions } from "../connection/connection-options.ts";
import { observeConnectionEnded } from "../observability/observe.ts";
import type { SocketClosed } from "../socket.ts";
import {
  type ClientOptions,
  resolveClientOptions,
  type ResolvedClientOptions,
} from "./client-options.ts";
import { endListenerOf } from "./end-listeners.ts";
import type { TransportClient } from "./transport-client.ts";

/** A client's options resolved, and the options of its connection. */
export interface PreparedOptions {
  readonly resolved: ResolvedClientOptions;
  readonly connection: ConnectionOptions;
}

/** `ConnectionOptions.onEnded` of a client: observability hears of the end first, then `more`. */
function endedHook(
  more: ((client: TransportClient) => void) | undefined,
): (owner: unknown, closed: SocketClosed) => void {
  if (more === undefined) return connectionEnded;
  return (owner, closed) => {
    connectionEnded(owner, closed);
    more(owner as TransportClient);
  };
}

function connectionEnded(owner: unknown, closed: SocketClosed): void {
  observeConnectionEnded(owner as TransportClient, closed);
}

/**
 * Preparations of frozen options objects (a `TransportServer` freezes the one it gives each
 * connection it accepts): a frozen object cannot change, so thousands of connections share one
 * resolution and one `ConnectionOptions` instead of two objects each. Only an object naming its
 * `inboundFrameBudget` is shared (without one, each client gets a budget of its own).
 */
const preparedOptions = new WeakMap<ClientOptions, PreparedOptions>();

/** The preparation of `options`: shared when `options` is frozen and names its frame budget. */
export function prepare(options: ClientOptions): PreparedOptions {
  const shared = Object.isFrozen(options) && options.inboundFrameBudget !== undefined;
  if (shared) {
    const known = preparedOptions.get(options);
    const handler = options.rpcHandler;
    // The handler's request limit is read where it is, so a handler that changes it is seen.
    if (
      known !== undefined &&
      known.connection.maxRequestBodyBytes === handler?.maxRequestBytes &&
      known.connection.requestLimitName === handler?.maxRequestBytesName
    ) return known;
  }
  const resolved = resolveClientOptions(options);
  const connection: ConnectionOptions = {
    maxFrameLength: resolved.maxFrameLength,
    maxReplyFrameLength: resolved.maxReplyFrameLength,
    // The handler's own request limit becomes the request frames' limit: a larger request is
    // skipped unread (never buffered) and refused naming it, before the handler sees it.
    maxRequestBodyBytes: resolved.rpcHandler?.maxRequestBytes,
    requestLimitName: resolved.rpcHandler?.maxRequestBytesName,
    inboundFrameBudget: resolved.inboundFrameBudget,
    noProgressTimeoutMs: resolved.noProgressTimeoutMs,
    writeHardCap: resolved.writeHardCap,
    connectionTimeoutMs: resolved.connectionTimeoutMs,
    streamHighWaterMark: resolved.streamHighWaterMark,
    firstFrameTimeoutMs: resolved.firstFrameTimeoutMs,
    idleTimeoutMs: resolved.idleTimeoutMs,
    slowConsumerTimeoutMs: resolved.slowConsumerTimeoutMs,
    clock: resolved.clock,
    onEnded: endedHook(endListenerOf(options)),
  };
  const prepared = { resolved, connection };
  if (shared) preparedOptions.set(options, prepared);
  return prepared;
}
