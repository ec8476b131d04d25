/**
 * `TransportServer`: serves any number of listeners (TCP, WebSocket, in-memory — whatever `Listen`
 * functions it is given) with one `RpcHandler` and one `StreamManager` (Spark's `TransportServer`).
 *
 * Each accepted socket becomes a server-side {@linkcode TransportClient}: the handle handlers
 * receive, which can also send requests to that peer. All connections share one transfer budget
 * (`maxChunksBeingTransferred`). A handler's exception becomes a failure reply; a protocol
 * violation closes that connection only; the server keeps serving the others.
 *
 * @module
 */

import {
  type ClientOptions,
  resolveClientOptions,
  type ResolvedClientOptions,
} from "../client/client-options.ts";
import { followEnds } from "../client/end-listeners.ts";
import { TransportClient } from "../client/transport-client.ts";
import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import { ConnectionClosedError, InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { nonNegativeNumber } from "../options.ts";
import type { Listen, Socket, SocketListener } from "../socket.ts";
import { HandlerErrorLog, type HandlerErrorLogStats } from "../responder/handler-error-log.ts";
import type { RpcHandler } from "../responder/rpc-handler.ts";
import {
  ConnectionAdmission,
  type ConnectionAdmissionStats,
  ConnectionCapError,
  type ConnectionCaps,
} from "./connection-admission.ts";
import { resolveServingLimits, type ServingLimits } from "../responder/serving-limits.ts";
import { TransferBudget } from "../responder/transfer-budget.ts";
import {
  asServerSide,
  observeRefusedConnection,
  observeServerBudget,
} from "../observability/observe.ts";

/**
 * Options of a {@linkcode TransportServer}; they apply to every connection it accepts. Unlike a
 * client, a server connection has a first-frame deadline (`firstFrameTimeoutMs`, default
 * `defaultLimits.handshakeTimeoutMs`) and an idle deadline (`idleTimeoutMs`, default
 * `defaultLimits.idleTimeoutMs`); pass 0 to disable either.
 */
export interface TransportServerOptions extends Omit<ClientOptions, "rpcHandler">, ConnectionCaps {
  /** Serves RPCs, one-way messages and uploads. */
  readonly rpcHandler: RpcHandler;
  /**
   * Requests one connection serves at once; more are refused with a failure reply. Default
   * `defaultLimits.maxConcurrentRequestsPerConnection` (see there for why refusal). Not allowed
   * together with `transferBudget`, which carries its own serving limits.
   */
  readonly maxConcurrentRequestsPerConnection?: number;
  /**
   * Ferry cancel: a stream body cancelled mid-write with at most this many bytes left is finished
   * with zeros; with more, the connection is reset. Default `defaultLimits.maxCancelPaddingBytes`.
   * Not allowed together with `transferBudget`.
   */
  readonly maxCancelPaddingBytes?: number;
  /**
   * Reply bytes one connection may have read from their source or queued for its socket at once;
   * its other chunk fetches and streams wait as small records. Default
   * `defaultLimits.replyWindowBytes`. Not allowed together with `transferBudget`.
   */
  readonly replyWindowBytes?: number;
  /**
   * Reply bytes the whole server holds at once (read from a source, not yet handed to a socket);
   * beyond it replies wait, served round-robin across connections. Default
   * `defaultLimits.maxReplyBytes`. Not allowed together with `transferBudget` (pass it to the
   * `TransferBudget` constructor instead).
   */
  readonly maxReplyBytes?: number;
  /**
   * While connections wait for reply memory, a connection holding some whose peer has not read
   * for this long is reset (`LimitError`). Default `defaultLimits.replyPressureTimeoutMs`; 0: never.
   * Not allowed together with `transferBudget` (pass it to the `TransferBudget` constructor).
   */
  readonly replyPressureTimeoutMs?: number;
  /**
   * How long `close()` lets connections end gracefully (queued replies flushed, the peer's end
   * seen) before resetting those still open. Default 5000 ms.
   */
  readonly closeGraceMs?: number;
  /**
   * The time source of the server's deadlines: `closeGraceMs`, `replyPressureTimeoutMs`, and
   * (passed on to every connection) the connections' own. Default `systemClock`.
   *
   * @example
   * ```ts
   * import { type Clock, TransportServer } from "ferry-transport";
   *
   * // Real time, but every deadline of this server is logged as it is armed.
   * const clock: Clock = {
   *   now: () => performance.now(),
   *   setTimer(callback, delayMs) {
   *     console.log(`server deadline in ${delayMs} ms`);
   *     return setTimeout(callback, delayMs);
   *   },
   *   clearTimer: (handle) => clearTimeout(handle as number),
   * };
   * const server = new TransportServer({ rpcHandler: { receive: (_peer, body) => body }, clock });
   * await server.close();
   * ```
   */
  readonly clock?: Clock;
}

const DEFAULT_CLOSE_GRACE_MS = 5_000;

/**
 * Accepts connections from listeners (`tcpListen`, `tlsListen`, `webSocketListen`, …) and serves
 * each with the same `rpcHandler` and `streamManager`, under caps on connections, transfers, reply
 * memory and inbound frame bytes shared by all of them.
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, TransportServer } from "ferry-transport";
 * import { tcpListen } from "ferry-transport/node";
 *
 * const streams = new OneForOneStreamManager();
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body }, // echo
 *   streamManager: streams,
 *   maxConnections: 1_000,
 * });
 * const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
 * console.log(`serving on port ${listener.address.port}`);
 * await server.close();
 * ```
 */
export class TransportServer {
  readonly #options: ClientOptions;
  readonly #closeGraceMs: number;
  readonly #clock: Clock;
  readonly #budget: TransferBudget;
  readonly #admission: ConnectionAdmission;
  readonly #connections = new Set<TransportClient>();
  readonly #listeners = new Set<SocketListener>();
  /** Handler failures of every connection: rate-limited lines unless `onHandlerError` is given. */
  readonly #errorLog: HandlerErrorLog;
  #closing: Promise<void> | undefined;
  /** A client whose socket ended while `accept` was still making it (so never served). */
  #endedWhileAccepting: TransportClient | undefined;

  constructor(options: TransportServerOptions) {
    if (options === null || typeof options !== "object" || options.rpcHandler === undefined) {
      throw new InvalidArgumentError(
        `new TransportServer: options.rpcHandler is required (an object with a receive method)`,
      );
    }
    const resolved: ResolvedClientOptions = resolveClientOptions(options, "TransportServerOptions");
    // One budget for every connection: the cap is on what the whole server transfers at once. It
    // also carries the per-connection serving limits to every connection's request handler.
    this.#budget = serverBudget(options, resolved.transferBudget);
    this.#errorLog = new HandlerErrorLog({ forward: options.onHandlerError });
    // Frozen: every connection then shares one resolution of it (see TransportClient).
    this.#options = Object.freeze({
      ...options,
      transferBudget: this.#budget,
      onHandlerError: this.#errorLog.report,
      // Server connections get deadlines a client does not: a peer must speak, and not idle forever.
      firstFrameTimeoutMs: options.firstFrameTimeoutMs ?? defaultLimits.handshakeTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? defaultLimits.idleTimeoutMs,
      // One inbound frame memory budget for every connection (maxInboundFrameBytes, server-wide).
      inboundFrameBudget: resolved.inboundFrameBudget,
    });
    // One function follows the end of every connection (see `#ended`).
    followEnds(this.#options, (client) => this.#ended(client));
    this.#clock = options.clock ?? systemClock;
    this.#closeGraceMs = nonNegativeNumber(
      options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
      "TransportServerOptions.closeGraceMs",
    );
    // Over all listeners: `maxConnections` / `maxConnectionsPerAddress` (see `defaultLimits`).
    this.#admission = new ConnectionAdmission(options, "TransportServer");
    observeServerBudget(this.#budget);
  }

  /** The connections being served (server-side clients). */
  get connections(): ReadonlySet<TransportClient> {
    return this.#connections;
  }

  /** Chunks and streams being sent right now, over all connections. */
  get chunksBeingTransferred(): number {
    return this.#budget.inProgress;
  }

  /** Connections reset by `replyPressureTimeoutMs` (peers not reading while others waited). */
  get replyPressureResets(): number {
    return this.#budget.replyMemory.pressureResets;
  }

  /** Handler failures reported by all connections, and how many were logged or suppressed. */
  get handlerErrors(): HandlerErrorLogStats {
    return this.#errorLog.stats;
  }

  /**
   * Connections open (charged to the caps) and refused by `maxConnections` and by
   * `maxConnectionsPerAddress` since the server started.
   */
  get connectionStats(): ConnectionAdmissionStats {
    return this.#admission.stats();
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Binds `listen` and serves every socket it accepts. Any number of listeners may be active.
   * @throws ConnectionClosedError when the server is closed.
   */
  async listen(listen: Listen): Promise<SocketListener> {
    if (typeof listen !== "function") {
      throw new InvalidArgumentError(
        `TransportServer.listen: expected a Listen function, got ${typeof listen}`,
      );
    }
    this.#checkOpen("listen");
    const listener = await listen((socket) => this.#onSocket(socket));
    if (this.#closing !== undefined) {
      await listener.close();
      throw new ConnectionClosedError(
        `TransportServer.listen: the server closed while binding ${listener.address.url}`,
      );
    }
    this.#listeners.add(listener);
    const close = listener.close.bind(listener);
    return {
      address: listener.address,
      close: () => {
        this.#listeners.delete(listener);
        return close();
      },
    };
  }

  /**
   * Serves an already-connected socket (e.g. an in-memory one or an upgraded WebSocket). The
   * connection is charged to the caps first: one over `maxConnections` or
   * `maxConnectionsPerAddress` is closed at once, unread (a WebSocket with close code 1013).
   * @throws ConnectionClosedError when the server is closed (the socket is closed too).
   * @throws ConnectionCapError (a `LimitError`) when a cap refused it (the socket is closed too).
   */
  accept(socket: Socket): TransportClient {
    if (this.#closing !== undefined) {
      const error = new ConnectionClosedError(
        `TransportServer.accept: the server is closed; refusing the connection from ${
          socket?.info?.remoteAddress ?? "unknown peer"
        }`,
      );
      socket?.close?.(error);
      throw error;
    }
    const admission = this.#admission;
    const address = addressOf(socket);
    const refused = admission.charge(address);
    if (refused !== undefined) {
      socket?.close?.(refused);
      throw refused;
    }
    let client: TransportClient;
    this.#endedWhileAccepting = undefined;
    try {
      client = asServerSide(() => new TransportClient(socket, this.#options));
    } catch (error) {
      admission.discharge(address);
      socket?.close?.(error);
      throw error;
    }
    if (this.#endedWhileAccepting === client) {
      this.#endedWhileAccepting = undefined;
      admission.discharge(address);
      return client;
    }
    // Its end is followed by the one function `followEnds` was given: no promise callback each.
    this.#connections.add(client);
    return client;
  }

  /**
   * `client`'s socket has ended: it is no longer served, and its charge is released (under the
   * address it was charged to: the socket's, which is the client's `remoteAddress`).
   */
  #ended(client: TransportClient): void {
    if (this.#connections.delete(client)) this.#admission.discharge(addressOf(client));
    else this.#endedWhileAccepting = client;
  }

  /**
   * Stops every listener and closes every connection (in-flight requests fail with
   * `ConnectionClosedError`). Resolves once all have ended; leaves no timers behind. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    await Promise.allSettled(listeners.map((listener) => listener.close()));
    const connections = [...this.#connections];
    const closed = Promise.allSettled(connections.map((client) => client.close()));
    let timer: TimerHandle | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = this.#clock.setTimer(resolve, this.#closeGraceMs);
    });
    await Promise.race([closed, graceOver]);
    this.#clock.clearTimer(timer);
    const reset = new ConnectionClosedError(
      `TransportServer closed; the connection did not end within ${this.#closeGraceMs} ms`,
    );
    for (const client of this.#connections) client.close(reset).catch(() => {});
    await closed;
    this.#errorLog.close();
  }

  #onSocket(socket: Socket): void {
    try {
      this.accept(socket);
    } catch (error) {
      // A socket that cannot be served is closed; the listener keeps accepting others.
      observeRefusedConnection(socket?.info?.remoteAddress ?? "unknown peer", error);
      try {
        socket.close(error);
      } catch {
        // Nothing more to do for a socket that cannot even be closed.
      }
      // Refusals by a cap are counted (connectionStats), not logged: a flood would flood the log.
      if (!(error instanceof ConnectionClosedError) && !(error instanceof ConnectionCapError)) {
        this.#errorLog.report(error, "TransportServer.accept");
      }
    }
  }

  #checkOpen(what: string): void {
    if (this.#closing !== undefined) {
      throw new ConnectionClosedError(`TransportServer.${what}: the server is closed`);
    }
  }
}

/** The address a connection is charged to in the caps. */
function addressOf(socket: { readonly info?: { readonly remoteAddress?: string } }): string {
  return String(socket?.info?.remoteAddress ?? "unknown peer");
}

function serverBudget(options: TransportServerOptions, resolved: TransferBudget): TransferBudget {
  const serving: Partial<ServingLimits> = {
    ...(options.maxConcurrentRequestsPerConnection === undefined
      ? {}
      : { maxConcurrentRequestsPerConnection: options.maxConcurrentRequestsPerConnection }),
    ...(options.maxCancelPaddingBytes === undefined
      ? {}
      : { maxCancelPaddingBytes: options.maxCancelPaddingBytes }),
    ...(options.replyWindowBytes === undefined
      ? {}
      : { replyWindowBytes: options.replyWindowBytes }),
  };
  const given = Object.keys(serving);
  if (options.maxReplyBytes !== undefined) given.push("maxReplyBytes");
  if (options.replyPressureTimeoutMs !== undefined) given.push("replyPressureTimeoutMs");
  if (given.length === 0) return resolved;
  if (options.transferBudget !== undefined) {
    throw new InvalidArgumentError(
      `Invalid TransportServerOptions: ${given.join(" and ")} cannot be combined ` +
        `with transferBudget; pass them to the TransferBudget constructor instead`,
    );
  }
  return new TransferBudget(
    resolved.limit,
    resolveServingLimits(serving, "TransportServerOptions"),
    options.maxReplyBytes ?? defaultLimits.maxReplyBytes,
    options.replyPressureTimeoutMs ?? defaultLimits.replyPressureTimeoutMs,
    options.clock,
  );
}
