/**
 * Wraps an `RpcHandler` so that it only ever runs for authenticated connections: `opened` is told
 * about every new connection (to start its authentication deadline) and `check` must pass before
 * any RPC, one-way message or upload reaches the handler. The authentication interceptor already
 * keeps unauthenticated messages away; this wrapper makes a misconfigured server fail closed.
 *
 * @module
 */

import type { InboundInterceptor } from "../client/client-options.ts";
import { chainInterceptors } from "../client/chain-interceptors.ts";
import { ferryResponder } from "../extensions/ferry-responder.ts";
import type { Peer } from "../responder/peer.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { RpcHandler } from "../responder/rpc-handler.ts";
import type { TransportServerOptions } from "../server/transport-server.ts";

/** What the wrapper asks of the authenticator. */
export interface HandlerGuard {
  opened(client: Peer): void;
  /** Throws when `client` may not make a `what` call. */
  check(client: Peer, what: string): void;
}

/** `handler` behind `guard`. Optional methods stay absent when `handler` lacks them. */
export function guardHandler(handler: RpcHandler, guard: HandlerGuard): RpcHandler {
  if (handler === null || typeof handler?.receive !== "function") {
    throw new InvalidArgumentError(
      `Cannot guard the RpcHandler: expected an object with a receive method, received ${typeof handler}`,
    );
  }
  const guarded: RpcHandler = {
    receive(client, message) {
      guard.check(client, "RpcRequest");
      return handler.receive(client, message);
    },
    channelActive(client) {
      guard.opened(client);
      handler.channelActive?.(client);
    },
    channelInactive(client, error) {
      handler.channelInactive?.(client, error);
    },
  };
  if (handler.receiveOneWay !== undefined) {
    guarded.receiveOneWay = (client, message) => {
      guard.check(client, "OneWayMessage");
      return handler.receiveOneWay!(client, message);
    };
  }
  if (handler.receiveStream !== undefined) {
    guarded.receiveStream = (client, meta, body) => {
      guard.check(client, "UploadStream");
      return handler.receiveStream!(client, meta, body);
    };
  }
  return guarded;
}

/** What an authentication gate offers a server: its interceptor and its handler wrapper. */
export interface ServerGate {
  readonly interceptor: InboundInterceptor;
  wrapHandler(handler: RpcHandler): RpcHandler;
}

/**
 * `options` with `gate` installed: the handler wrapped, then the interceptors in order — the
 * gate, Ferry's extensions (`ferryResponder`: a client that authenticated treats its peer as
 * Ferry, so it may ping, cancel and send trace contexts), and any interceptor `options` already
 * had. Both gates' `serverOptions`.
 */
export function gatedServerOptions<T extends TransportServerOptions>(
  gate: ServerGate,
  options: T,
): T {
  return {
    ...options,
    rpcHandler: gate.wrapHandler(options.rpcHandler),
    interceptor: chainInterceptors(gate.interceptor, ferryResponder, options.interceptor),
  };
}
