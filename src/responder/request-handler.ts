/**
 * The request side of one connection (Spark's `TransportRequestHandler`): answers the requests the
 * peer sends with an {@linkcode RpcHandler} and a {@linkcode StreamManager}.
 *
 * - RpcRequest → `receive` → RpcResponse; a throw or rejection → RpcFailure with its message.
 * - OneWayMessage → `receiveOneWay` (or, like Spark, `receive` with the result ignored); a throw
 *   is reported to `onHandlerError` and counted, never sent.
 * - UploadStream → `receiveStream(meta, body)` → RpcResponse / RpcFailure (`upload-receiver.ts`).
 *   Without `receiveStream` the upload is refused and its bytes are read and discarded, so the
 *   connection stays in sync. Bytes the handler has not read when it settles are discarded too.
 * - ChunkFetchRequest → {@linkcode ChunkFetchReplies}; StreamRequest → {@linkcode StreamReplyQueue}
 *   (replies in request order). Both apply the server-wide {@linkcode TransferBudget} ("busy"
 *   failures) and bracket writes with the StreamManager's transfer hooks. Their sources are read
 *   only when the connection's {@linkcode ReplyGate} window and the server's reply memory have
 *   room; until then accepted requests wait as small records.
 * - Requests beyond `maxConcurrentRequestsPerConnection` (waiting records included) are refused at
 *   once with their failure reply (`src/limits.ts` says why refusal rather than backpressure).
 * - {@linkcode RequestHandler.cancelServing} stops serving a chunk fetch or stream request whose
 *   requester gave up; the reply producers apply it. It is the generic operation an extension
 *   calls (Ferry's cancel, `src/extensions/`, decodes the peer's message in an interceptor). One
 *   naming nothing, or several requests at once, is ignored (counted in `stats`).
 * - MergedBlockMetaRequest → RpcFailure (not supported by Ferry's server).
 *
 * Without an RpcHandler (a plain client) requests are refused the same way; nothing a handler
 * does throws out of here. @module
 */

import type { Peer } from "./peer.ts";
import { describeValue } from "../connection/body-source.ts";
import type { Connection, RequestSide } from "../connection/connection.ts";
import type { InboundBody } from "../connection/inbound-body.ts";
import { describeError, TransportError } from "../errors.ts";
import {
  type ChunkFetchRequest,
  type Int64,
  MessageType,
  type OneWayMessage,
  type RequestMessage,
} from "../protocol/messages.ts";
import { ChunkFetchReplies } from "./chunk-fetch-replies.ts";
import { ReplyGate } from "./reply-gate.ts";
import type { ServedRequest } from "./served-request.ts";
import type { ReplyHost } from "./reply-host.ts";
import type { RpcHandler } from "./rpc-handler.ts";
import type { StreamManager } from "./stream-manager.ts";
import { StreamReplyQueue } from "./stream-reply-queue.ts";
import type { TransferBudget } from "./transfer-budget.ts";
import { receiveUpload, type UploadHost } from "./upload-receiver.ts";

/** Reports a handler failure that cannot be sent to the peer (one-way, lifecycle callbacks). */
export type HandlerErrorReporter = (error: unknown, context: string) => void;

export interface RequestHandlerOptions {
  readonly rpcHandler?: RpcHandler | undefined;
  readonly streamManager?: StreamManager | undefined;
  /** The server-wide transfer budget; it also carries the per-connection serving limits. */
  readonly budget: TransferBudget;
  readonly onHandlerError: HandlerErrorReporter;
}

/** Counters of the request side. */
export interface RequestHandlerStats {
  /** Handler failures that could not be sent back (one-way, lifecycle callbacks). */
  readonly handlerErrors: number;
  /** Chunk and stream requests refused because the transfer budget was exhausted. */
  readonly shedRequests: number;
  /** Requests refused because `maxConcurrentRequestsPerConnection` were being served. */
  readonly refusedRequests: number;
  /** Requests to stop serving (`cancelServing`, e.g. Ferry cancels received from the peer). */
  readonly cancelsReceived: number;
  /** Of those, the ones that stopped a request being served (the others came too late). */
  readonly cancelsApplied: number;
}

export class RequestHandler implements RequestSide {
  readonly #client: Peer;
  readonly #connection: Connection;
  readonly #rpcHandler: RpcHandler | undefined;
  readonly #streamManager: StreamManager | undefined;
  readonly #budget: TransferBudget;
  readonly #maxServing: number;
  readonly #onHandlerError: HandlerErrorReporter;
  /** Built on the first chunk or stream request (most connections never need them). */
  #host: ReplyHost | undefined;
  #chunks: ChunkFetchReplies | undefined;
  #streams: StreamReplyQueue | undefined;
  #uploads: UploadHost | undefined;
  #handlerErrors = 0;
  #shedRequests = 0;
  #refusedRequests = 0;
  #cancelsReceived = 0;
  #cancelsApplied = 0;
  #serving = 0;

  constructor(client: Peer, connection: Connection, options: RequestHandlerOptions) {
    this.#client = client;
    this.#connection = connection;
    this.#rpcHandler = options.rpcHandler;
    this.#streamManager = options.streamManager;
    this.#budget = options.budget;
    this.#maxServing = options.budget.serving.maxConcurrentRequestsPerConnection;
    this.#onHandlerError = options.onHandlerError;
  }

  /** Requests of the peer whose replies are still being produced or written. */
  get serving(): number {
    return this.#serving;
  }

  get stats(): RequestHandlerStats {
    return {
      handlerErrors: this.#handlerErrors,
      shedRequests: this.#shedRequests,
      refusedRequests: this.#refusedRequests,
      cancelsReceived: this.#cancelsReceived,
      cancelsApplied: this.#cancelsApplied,
    };
  }

  /** The connection is open: tells the handler (`channelActive`). */
  start(): void {
    const handler = this.#rpcHandler;
    if (handler?.channelActive === undefined) return;
    try {
      handler.channelActive(this.#client);
    } catch (error) {
      this.#reportHandlerError(error, "RpcHandler.channelActive");
    }
  }

  handle(message: RequestMessage): InboundBody | undefined {
    switch (message.type) {
      case MessageType.RpcRequest:
        this.rpcRequest(message.requestId, message.body);
        return undefined;
      case MessageType.OneWayMessage:
        this.#oneWay(message);
        return undefined;
      case MessageType.UploadStream:
        return receiveUpload(message, this.#rpcHandler, this.#uploadHost());
      case MessageType.ChunkFetchRequest:
        this.#chunkFetch(message);
        return undefined;
      case MessageType.StreamRequest: {
        const streams = this.#streams ??= new StreamReplyQueue(this.#replyHost());
        const refused = this.#overCapacity(`stream '${message.streamId}'`);
        if (refused === undefined) streams.open(message.streamId);
        else streams.refuse(message.streamId, refused);
        return undefined;
      }
      case MessageType.MergedBlockMetaRequest:
        this.#rpcFailure(
          message.requestId,
          `MergedBlockMetaRequest (app ${message.appId}, shuffle ${message.shuffleId}, merge ` +
            `${message.shuffleMergeId}, reduce ${message.reduceId}) is not supported by this server`,
        );
        return undefined;
    }
  }

  terminate(error: unknown): void {
    // Waiting records are dropped (their serving count and budget slot given back); replies being
    // read give back their reply memory as they settle (sends on a closed connection are dropped).
    this.#host?.gate.close();
    const manager = this.#streamManager;
    if (manager !== undefined) {
      try {
        manager.connectionTerminated(this.#client);
      } catch (failure) {
        this.#reportHandlerError(failure, "StreamManager.connectionTerminated");
      }
    }
    const handler = this.#rpcHandler;
    if (handler?.channelInactive !== undefined) {
      try {
        handler.channelInactive(this.#client, error);
      } catch (failure) {
        this.#reportHandlerError(failure, "RpcHandler.channelInactive");
      }
    }
  }

  /** The refusal text when this connection already serves its limit of requests. */
  #overCapacity(what: string): string | undefined {
    if (this.#serving < this.#maxServing) return undefined;
    this.#refusedRequests++;
    return `Cannot serve ${what}: too many requests in flight on this connection ` +
      `(${this.#serving}, limit ${this.#maxServing}; maxConcurrentRequestsPerConnection)`;
  }

  /**
   * `handle` of an RpcRequest given as its fields (the connection's per-RPC path; `handle` calls
   * it too, so there is no wrapper call per RPC).
   */
  rpcRequest(requestId: Int64, body: Uint8Array): void {
    const handler = this.#rpcHandler;
    if (handler === undefined) {
      this.#rpcFailure(requestId, `RpcRequest refused: no RpcHandler serves this connection`);
      return;
    }
    // The description is built only for a refusal: the template string cost ~130 bytes and a
    // number-to-string conversion on every served RPC.
    if (this.#serving >= this.#maxServing) {
      this.#rpcFailure(requestId, this.#overCapacity(`RPC ${requestId}`)!);
      return;
    }
    let result: Uint8Array | Promise<Uint8Array>;
    try {
      result = handler.receive(this.#client, body);
    } catch (error) {
      this.#rpcFailure(requestId, describeError(error));
      return;
    }
    if (isPromiseLike(result)) {
      this.#serving++;
      result.then(
        (reply) => {
          this.#serving--;
          this.#rpcReply(requestId, reply, "RpcHandler.receive");
        },
        (error) => {
          this.#serving--;
          this.#rpcFailure(requestId, describeError(error));
        },
      );
    } else {
      this.#rpcReply(requestId, result, "RpcHandler.receive");
    }
  }

  #rpcReply(requestId: Int64, reply: unknown, source: string): void {
    if (!(reply instanceof Uint8Array)) {
      this.#rpcFailure(
        requestId,
        `${source} returned ${describeValue(reply)} instead of a Uint8Array reply`,
      );
      return;
    }
    try {
      this.#connection.sendRpc(MessageType.RpcResponse, requestId, reply);
    } catch (error) {
      this.#rpcFailure(requestId, describeError(error));
    }
  }

  #rpcFailure(requestId: Int64, error: string): void {
    this.#connection.send({ type: MessageType.RpcFailure, requestId, error });
  }

  #oneWay(message: OneWayMessage): void {
    const handler = this.#rpcHandler;
    if (handler === undefined) {
      this.#reportHandlerError(
        new TransportError("OneWayMessage dropped: no RpcHandler serves this connection"),
        "OneWayMessage",
      );
      return;
    }
    try {
      const result = handler.receiveOneWay !== undefined
        ? handler.receiveOneWay(this.#client, message.body)
        : handler.receive(this.#client, message.body);
      if (isPromiseLike(result)) {
        result.then(undefined, (error) => this.#reportHandlerError(error, "receiveOneWay"));
      }
    } catch (error) {
      this.#reportHandlerError(error, "RpcHandler.receiveOneWay");
    }
  }

  /** What the upload path (`upload-receiver.ts`) needs: built on the first upload. */
  #uploadHost(): UploadHost {
    return this.#uploads ??= {
      client: this.#client,
      connection: this.#connection,
      overCapacity: (what) => this.#overCapacity(what),
      serving: (delta) => {
        this.#serving += delta;
      },
      reply: (requestId, reply, source) => this.#rpcReply(requestId, reply, source),
      fail: (requestId, error) => this.#rpcFailure(requestId, error),
    };
  }

  #chunkFetch(message: ChunkFetchRequest): void {
    const { streamId, chunkIndex } = message;
    const manager = this.#streamManager;
    // As for RPCs, the description is built only for a refusal, not for every served chunk.
    const refused = manager === undefined
      ? `ChunkFetchRequest refused: no StreamManager serves this connection`
      : this.#serving < this.#maxServing
      ? undefined
      : this.#overCapacity(`chunk ${chunkIndex} of stream ${streamId}`);
    if (refused !== undefined) {
      const error = refused;
      this.#connection.send({ type: MessageType.ChunkFetchFailure, streamId, chunkIndex, error });
      return;
    }
    const chunks = this.#chunks ??= new ChunkFetchReplies(this.#replyHost(), manager!);
    chunks.serve(streamId, chunkIndex);
  }

  /**
   * Stops serving `request`, whose requester no longer wants the reply: a queued reply is dropped
   * (a chunk) or failed in order (a stream), a source being read is released, a body on the wire
   * is finished with padding or the connection reset (`maxCancelPaddingBytes`); budget and serving
   * slots are freed. Returns whether a request was being served under that name (exactly one).
   */
  cancelServing(request: ServedRequest): boolean {
    this.#cancelsReceived++;
    const applied = request.kind === "chunk"
      ? (this.#chunks?.cancel(request.streamId, request.chunkIndex) ?? false)
      : (this.#streams?.cancel(request.streamId, cancelledBy(this.#connection.peer)) ?? false);
    if (applied) this.#cancelsApplied++;
    return applied;
  }

  /** Reports `error` like a handler failure that cannot be sent (counted in `handlerErrors`). */
  reportError(error: unknown, context: string): void {
    this.#reportHandlerError(error, context);
  }

  #replyHost(): ReplyHost {
    return this.#host ??= {
      client: this.#client,
      connection: this.#connection,
      streamManager: this.#streamManager,
      budget: this.#budget,
      gate: new ReplyGate(this.#budget.replyMemory, this.#budget.serving.replyWindowBytes, {
        stalledSince: () => this.#connection.writer.blockedSince,
        reset: (error) => this.#connection.close(error),
      }),
      serving: (delta) => {
        this.#serving += delta;
      },
      shed: (what) => this.#shed(what),
      notify: (hook, id) => {
        const manager = this.#streamManager!;
        this.#notify(manager[hook] as TransferHookFn | undefined, manager, id, hook);
      },
      reportError: (error, context) => this.#reportHandlerError(error, context),
    };
  }

  /** Counts a request the transfer budget refused; returns its failure text. */
  #shed(what: string): string {
    this.#shedRequests++;
    return `Cannot serve ${what} now: ${this.#budget.inProgress} chunks and streams are being ` +
      `transferred, the server's limit (maxChunksBeingTransferred ${this.#budget.limit}); retry later`;
  }

  /** Calls a StreamManager transfer hook (`chunkBeingSent`, ...), which must not throw. */
  #notify(
    hook: TransferHookFn | undefined,
    manager: StreamManager,
    id: Int64 | string,
    name: string,
  ): void {
    if (hook === undefined) return;
    try {
      hook.call(manager, id, this.#client);
    } catch (error) {
      this.#reportHandlerError(error, `StreamManager.${name}`);
    }
  }

  #reportHandlerError(error: unknown, context: string): void {
    this.#handlerErrors++;
    try {
      this.#onHandlerError(error, context);
    } catch {
      // A failing error reporter must not take the connection down.
    }
  }
}

type TransferHookFn = (this: StreamManager, id: Int64 | string, client?: Peer) => void;

function cancelledBy(peer: string): TransportError {
  return new TransportError(`Cancelled by the peer ${peer}`);
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
