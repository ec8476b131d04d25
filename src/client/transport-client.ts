/**
 * `TransportClient`: one connection, many requests in flight (Spark's `TransportClient`).
 *
 * The same class is the client a caller opens and the server-side handle a `TransportServer` gives
 * its handlers: every connection is bidirectional, so a server can send RPCs to a connected client
 * too. Requests are RPCs (`sendRpc`), one-way messages (`send`), chunk fetches (`fetchChunk`, or
 * `fetchChunkWith` lending the bytes), streams (`stream`) and uploads (`uploadStream`).
 *
 * Failure semantics:
 * - Closing or losing the connection fails every request in flight at once with a
 *   `ConnectionClosedError` whose `cause` is why it closed; a stream body still arriving errors.
 * - A request's own deadline (`timeoutMs`, default `requestTimeoutMs`) or `signal` fails that
 *   request alone (`TimeoutError` / the signal's reason); its late reply is dropped and counted.
 * - A remote failure (RpcFailure, ChunkFetchFailure, StreamFailure) rejects with `RemoteError`.
 * - With requests outstanding and nothing received for `connectionTimeoutMs`, the connection is
 *   closed as dead (Spark's rule) with a `TimeoutError` as the cause.
 *
 * @module
 */

import type { BodyData } from "../connection/body-source.ts";
import { type AbandonedRequestListener, AbandonedRequestListeners } from "./abandoned-requests.ts";
import type { ChunkConsumer } from "./chunk-fetches.ts";
import { Connection } from "../connection/connection.ts";
import type { RequestSide } from "../connection/request-side.ts";
import type { ByteStream } from "../connection/inbound-body.ts";
import type { MergedBlockMeta } from "../connection/response-handler.ts";
import type { CallOptions } from "../deadline.ts";
import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { type Int64, type Message, MessageType } from "../protocol/messages.ts";
import type { Peer } from "../responder/peer.ts";
import { RequestHandler } from "../responder/request-handler.ts";
import type { ServedRequest } from "../responder/served-request.ts";
import type { Connect, Socket, SocketClosed, SocketInfo } from "../socket.ts";
import {
  type ClientOptions,
  type InboundInterceptor,
  resolveClientOptions,
  type ResolvedClientOptions,
} from "./client-options.ts";
import type { ClientStats } from "./client-stats.ts";
import { checkBytes, checkTimeout, type UploadOptions } from "./request-arguments.ts";
import { OutgoingRequests } from "./outgoing-requests.ts";
import type { RpcCallback } from "./rpc-callback.ts";
import { closedSendError } from "./request-gate.ts";
import { observeConnection } from "../observability/observe.ts";
import { prepare } from "./prepared-options.ts";

export type { AbandonedRequest, AbandonedRequestListener } from "./abandoned-requests.ts";
export type { ByteStream } from "../connection/inbound-body.ts";
export type { MergedBlockMeta } from "../connection/response-handler.ts";
export type { UploadOptions } from "./request-arguments.ts";
export type { RpcCallback } from "./rpc-callback.ts";

/** The request handler of a client, as its connection asks for it (set by `TransportClient`). */
let requestSideOf: (owner: unknown) => RequestSide;

/**
 * One connection to a Spark `network-common` peer (a Ferry or Spark server): RPCs, one-way
 * messages, chunk fetches, streams and uploads, each with a deadline and an `AbortSignal`. It can
 * also serve the peer's requests (`rpcHandler`, `streamManager`). For many peers and connections
 * use the pool (`ferry-transport/pool`).
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const client = await TransportClient.connect(
 *   tcpConnect({ host: "127.0.0.1", port: 7337 }),
 *   { timeoutMs: 5_000 },
 * );
 * const reply = await client.sendRpc(new TextEncoder().encode("hello"), { timeoutMs: 1_000 });
 * const chunk = await client.fetchChunk(42n, 0, { timeoutMs: 1_000 });
 * console.log(new TextDecoder().decode(reply), chunk.byteLength);
 * await client.close();
 * ```
 */
export class TransportClient implements Peer {
  /**
   * Opens a connection with `connect` and wraps it. `timeoutMs` / `signal` bound the connect
   * (default `defaultLimits.connectTimeoutMs`); the other options configure the client.
   */
  static async connect(
    connect: Connect,
    options: ClientOptions & CallOptions = {},
  ): Promise<TransportClient> {
    if (typeof connect !== "function") {
      throw new InvalidArgumentError(
        `TransportClient.connect: expected a Connect function, got ${typeof connect}`,
      );
    }
    const invalid = checkTimeout(options.timeoutMs, "TransportClient.connect");
    if (invalid !== undefined) throw invalid;
    resolveClientOptions(options);
    const socket = await connect({
      timeoutMs: options.timeoutMs ?? defaultLimits.connectTimeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    try {
      return new TransportClient(socket, options);
    } catch (error) {
      socket.close(error);
      throw error;
    }
  }

  readonly #connection: Connection;
  /**
   * Serves the peer's requests; made by the first one (or `channelActive`, a cancel, an error
   * report, the connection's end): a server's idle connections mostly make none until they close.
   */
  #requests: RequestHandler | undefined;
  /** The calling side, made by the first request (a server's connections mostly make none). */
  #outgoing: OutgoingRequests | undefined;
  /** Made by the first `onAbandoned`. */
  #abandoned: AbandonedRequestListeners<TransportClient> | undefined;
  /** The resolved options (one object shared by every connection of a server). */
  readonly #options: ResolvedClientOptions;

  static {
    requestSideOf = (owner) => (owner as TransportClient).#requestHandler();
  }

  /** Wraps a connected socket and starts reading from it. */
  constructor(socket: Socket, options: ClientOptions = {}) {
    const { resolved, connection } = prepare(options);
    if (socket === null || typeof socket !== "object" || typeof socket.attach !== "function") {
      throw new InvalidArgumentError(
        `new TransportClient: expected a Socket, got ${socket === null ? "null" : typeof socket}`,
      );
    }
    this.#options = resolved;
    this.#connection = new Connection(socket, connection);
    this.setInterceptor(resolved.interceptor);
    this.#connection.tap = observeConnection(this, socket.info);
    // `channelActive` is the only thing a request handler does before the first request.
    if (resolved.rpcHandler?.channelActive !== undefined) this.#requestHandler().start();
    this.#connection.start(requestSideOf);
  }

  /** Settles once the connection has ended, with why (`error` undefined: graceful). */
  get closed(): Promise<SocketClosed> {
    return this.#connection.closed;
  }

  /** Whether the connection is open (requests can be sent). */
  get isActive(): boolean {
    return this.#connection.isOpen;
  }

  /** The peer's address (`host:port`, a URL for WebSockets). */
  get remoteAddress(): string {
    return this.#connection.peer;
  }

  /** Transport and addresses of the underlying socket. */
  get info(): SocketInfo {
    return this.#connection.socket.info;
  }

  /** Sends an RPC; resolves with the peer's RpcResponse body. */
  sendRpc(body: Uint8Array, options?: CallOptions): Promise<Uint8Array> {
    return this.#calls().rpc(body, options);
  }

  /**
   * Sends an RPC like {@linkcode sendRpc}, its outcome going to `callback` instead of a promise
   * (Spark's `RpcResponseCallback`): `onSuccess(reply)` runs as soon as the reply is decoded, or
   * `onFailure(error)` with what `sendRpc` would reject with. No promise per request: the cheapest
   * way to keep many RPCs in flight (see `RpcCallback` for when each callback runs).
   * @throws InvalidArgumentError when `callback` lacks `onSuccess` or `onFailure`.
   */
  sendRpcWith(body: Uint8Array, callback: RpcCallback, options?: CallOptions): void {
    this.#calls().rpcWith(body, callback, options);
  }

  /** Sends a one-way message (no reply). @throws ConnectionClosedError when closed. */
  send(body: Uint8Array): void {
    const refused = checkBytes(body, "send body") ??
      closedSendError(this.#connection, "one-way message");
    if (refused !== undefined) throw refused;
    this.#connection.send({ type: MessageType.OneWayMessage, body });
  }

  /** Fetches one chunk of a stream the peer registered; resolves with the chunk's bytes. */
  fetchChunk(streamId: Int64, chunkIndex: number, options?: CallOptions): Promise<Uint8Array> {
    return this.#calls().fetchChunk(streamId, chunkIndex, options);
  }

  /**
   * Fetches one chunk like {@linkcode fetchChunk} but *lends* its bytes to `consume` instead of
   * handing them over (Spark's `ChunkReceivedCallback` with a `ManagedBuffer`), so the buffer a
   * large chunk arrived in is reused for a later one: no fresh, zero-filled buffer per chunk.
   * Resolves with what `consume` returns (awaited), rejects with what it throws or rejects with.
   *
   * The body is valid only until `consume` returns, or until the promise it returns settles; then
   * its memory is overwritten by later traffic. Do not keep `body` or any view of it beyond that:
   * copy what you need to keep (`body.slice()`). Validation, deadline, `signal` and abandonment
   * are those of `fetchChunk`; they bound the fetch, not `consume`. `consume` runs in a microtask
   * after the reply has been decoded, never inside the decoder.
   */
  fetchChunkWith<T>(
    streamId: Int64,
    chunkIndex: number,
    consume: ChunkConsumer<T>,
    options?: CallOptions,
  ): Promise<T> {
    return this.#calls().fetchChunkWith(streamId, chunkIndex, consume, options);
  }

  /**
   * Opens a stream by id. Resolves when the peer's StreamResponse arrives, with a `ReadableStream`
   * of exactly `byteLength` bytes (backpressure reaches the socket; cancel it to discard the
   * rest). `timeoutMs` / `signal` bound the wait for the response, not the reading of the body.
   */
  stream(streamId: string, options?: CallOptions): Promise<ByteStream> {
    return this.#calls().stream(streamId, options);
  }

  /**
   * Uploads `meta` and a body (Spark's UploadStream); resolves with the peer's RpcResponse body.
   *
   * The frame announces the body's byte count before the body, so for an iterable or a
   * `ReadableStream` pass `options.byteLength` (an `InvalidArgumentError` otherwise). The body is
   * written with backpressure; other frames on this connection wait until it is complete. Data
   * that yields a different count, a non-`Uint8Array` chunk, or a source that throws leaves the
   * wire out of sync: the connection closes and everything in flight (this upload included) fails
   * with a `ConnectionClosedError` whose cause says why. A deadline or abort fails the upload
   * alone, but a body already being written is still written to the end (to keep the connection
   * in sync) and its reply dropped. Do not mutate passed buffers until the promise settles.
   */
  uploadStream(meta: Uint8Array, data: BodyData, options?: UploadOptions): Promise<Uint8Array> {
    return this.#calls().upload(meta, data, options);
  }

  /** Asks for the meta of a merged shuffle block (Spark's MergedBlockMetaRequest). */
  sendMergedBlockMetaRequest(
    appId: string,
    shuffleId: number,
    shuffleMergeId: number,
    reduceId: number,
    options?: CallOptions,
  ): Promise<MergedBlockMeta> {
    return this.#calls().mergedBlockMeta(appId, shuffleId, shuffleMergeId, reduceId, options);
  }

  /**
   * Sends a raw protocol message (for extensions: bootstraps, heartbeats). StreamResponse and
   * UploadStream are refused (their raw bodies need `stream`/`uploadStream` machinery).
   * @throws ConnectionClosedError when closed; InvalidArgumentError when it cannot be encoded.
   */
  sendMessage(message: Message): void {
    const type = (message as { type?: unknown } | null)?.type;
    if (type === MessageType.StreamResponse || type === MessageType.UploadStream) {
      throw new InvalidArgumentError(
        `sendMessage: StreamResponse and UploadStream carry raw bodies and cannot be sent raw`,
      );
    }
    const closed = closedSendError(this.#connection, "raw message");
    if (closed !== undefined) throw closed;
    this.#connection.send(message);
  }

  /** Replaces the inbound interceptor (`undefined` removes it). */
  setInterceptor(interceptor: InboundInterceptor | undefined): void {
    if (interceptor !== undefined && typeof interceptor !== "function") {
      throw new InvalidArgumentError(
        `setInterceptor: expected a function or undefined, got ${typeof interceptor}`,
      );
    }
    this.#connection.interceptorOwner = this;
    this.#connection.interceptor = interceptor;
  }

  /**
   * Subscribes to chunk fetches and stream requests abandoned (deadline or abort) before their
   * reply, and to received streams their reader cancelled before their end (see
   * {@linkcode AbandonedRequest}); not to requests failed by the connection closing. Returns an
   * unsubscribe function. The client keeps the wire correct by itself (late replies and unread
   * bodies are read and dropped): the listener is for telling the peer to stop, e.g. Ferry's cancel.
   */
  onAbandoned(listener: AbandonedRequestListener<TransportClient>): () => void {
    if (typeof listener !== "function") {
      throw new InvalidArgumentError(
        `onAbandoned: expected a listener function, got ${typeof listener}`,
      );
    }
    if (this.#abandoned === undefined) {
      const abandoned = new AbandonedRequestListeners<TransportClient>(
        this.#options.onHandlerError,
      );
      this.#abandoned = abandoned;
      this.#connection.onStreamBodyCancelled = (streamId, reason) =>
        abandoned.notify({ kind: "stream", streamId, reason }, this);
    }
    return this.#abandoned.add(listener);
  }

  /**
   * For extensions that let the peer withdraw a request (Ferry's cancel, installed as an
   * interceptor): stops serving the peer's chunk fetch or stream request named by `request`, as if
   * its requester had gone — its reply is not produced or sent, its source is released and its
   * budget and serving slots are freed. Returns whether exactly one such request was being served.
   * Counted in `stats()` (`cancelsReceived`, `cancelsApplied`).
   */
  cancelServing(request: ServedRequest): boolean {
    return this.#requestHandler().cancelServing(request);
  }

  /**
   * For extensions: reports a failure that cannot be sent to the peer (a malformed extension
   * message, say) to this connection's `onHandlerError`, counted in `stats().handlerErrors`.
   */
  reportError(error: unknown, context: string): void {
    this.#requestHandler().reportError(error, context);
  }

  /** Counters: requests in flight, dropped late replies, traffic. */
  stats(): ClientStats {
    const responses = this.#connection.responses;
    const inFlight = responses.inFlight;
    return {
      ...this.#connection.counters,
      ...this.#requestHandler().stats,
      inFlight: { ...inFlight, total: responses.outstanding },
      droppedReplies: responses.droppedReplies,
      queuedBytes: this.#connection.writer.queuedBytes,
    };
  }

  /**
   * Closes the connection gracefully: everything in flight fails at once with a
   * `ConnectionClosedError`, queued frames are flushed, the socket ends. Resolves once it has.
   * With `error`, the socket is reset instead and `error` is the failures' cause.
   */
  async close(error?: unknown): Promise<void> {
    this.#connection.close(error);
    await this.#connection.closed;
  }

  #requestHandler(): RequestHandler {
    if (this.#requests !== undefined) return this.#requests;
    const options = this.#options;
    return this.#requests = new RequestHandler(this, this.#connection, {
      rpcHandler: options.rpcHandler,
      streamManager: options.streamManager,
      budget: options.transferBudget,
      onHandlerError: options.onHandlerError,
    });
  }

  #calls(): OutgoingRequests {
    return this.#outgoing ??= new OutgoingRequests(this.#connection, {
      requestTimeoutMs: this.#options.requestTimeoutMs,
      maxInFlightRequests: this.#options.maxInFlightRequests,
      clock: this.#options.clock,
      abandoned: (request) => this.#abandoned?.notify(request, this),
      listening: () => this.#abandoned?.active === true,
    });
  }
}
