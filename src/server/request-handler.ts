/**
 * The request side of one connection (Spark's `TransportRequestHandler`): answers the requests the
 * peer sends with an {@linkcode RpcHandler} and a {@linkcode StreamManager}.
 *
 * - RpcRequest → `receive` → RpcResponse; a throw or rejection → RpcFailure with its message.
 * - OneWayMessage → `receiveOneWay` (or, like Spark, `receive` with the result ignored); a throw
 *   is reported to `onHandlerError` and counted, never sent.
 * - UploadStream → `receiveStream(meta, body)` → RpcResponse / RpcFailure. Without
 *   `receiveStream` the upload is refused and its bytes are read and discarded, so the connection
 *   stays in sync. Bytes the handler has not read when it settles are discarded too.
 * - ChunkFetchRequest → `getChunk` → ChunkFetchSuccess / ChunkFetchFailure.
 * - StreamRequest → `openStream` → StreamResponse and exactly `byteLength` raw bytes, written with
 *   backpressure, or StreamFailure. Replies go out in request order (peers match them FIFO) even
 *   when `openStream` settles out of order. A body that yields a different byte count than it
 *   announced closes the connection (the peer would be out of sync).
 * - Chunk and stream requests beyond the {@linkcode TransferBudget} fail with a "busy" error (the
 *   budget counts a transfer from its request until its bytes are handed to the socket). The
 *   StreamManager's hooks fire as its contract says: `chunkBeingSent` / `streamBeingSent` once
 *   `getChunk` / `openStream` resolved, just before writing, and `chunkSent` / `streamSent` exactly
 *   once when the write completed or failed (connection closed included).
 * - MergedBlockMetaRequest → RpcFailure (not supported by Ferry's server).
 *
 * A side without an RpcHandler (a plain client) refuses requests with failures the same way.
 * Nothing a handler does can throw out of here: the connection and the server keep serving.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import { type BodyData, bodySource, describeValue } from "../connection/body-source.ts";
import type { Connection, RequestSide } from "../connection/connection.ts";
import { discardBody, type InboundBody, InboundStream } from "../connection/inbound-body.ts";
import { describeError, TransportError } from "../errors.ts";
import {
  type ChunkFetchRequest,
  type Int64,
  MessageType,
  type OneWayMessage,
  type RequestMessage,
  type RpcRequest,
  type StreamRequest,
  type UploadStream,
} from "../protocol/messages.ts";
import type { RpcHandler } from "./rpc-handler.ts";
import type { StreamBody, StreamManager } from "./stream-manager.ts";
import type { TransferBudget } from "./transfer-budget.ts";

/** Reports a handler failure that cannot be sent to the peer (one-way, lifecycle callbacks). */
export type HandlerErrorReporter = (error: unknown, context: string) => void;

export interface RequestHandlerOptions {
  readonly rpcHandler?: RpcHandler | undefined;
  readonly streamManager?: StreamManager | undefined;
  readonly budget: TransferBudget;
  readonly onHandlerError: HandlerErrorReporter;
}

/** Counters of the request side. */
export interface RequestHandlerStats {
  /** Handler failures that could not be sent back (one-way, lifecycle callbacks). */
  readonly handlerErrors: number;
  /** Chunk and stream requests refused because the transfer budget was exhausted. */
  readonly shedRequests: number;
}

/** A StreamRequest whose reply waits for its turn (replies go out in request order). */
interface StreamReplySlot {
  readonly streamId: string;
  settled: boolean;
  body: StreamBody | undefined;
  error: string | undefined;
  acquired: boolean;
}

export class RequestHandler implements RequestSide {
  readonly #client: TransportClient;
  readonly #connection: Connection;
  readonly #rpcHandler: RpcHandler | undefined;
  readonly #streamManager: StreamManager | undefined;
  readonly #budget: TransferBudget;
  readonly #onHandlerError: HandlerErrorReporter;
  #streamReplies: StreamReplySlot[] = [];
  #handlerErrors = 0;
  #shedRequests = 0;
  #serving = 0;

  constructor(client: TransportClient, connection: Connection, options: RequestHandlerOptions) {
    this.#client = client;
    this.#connection = connection;
    this.#rpcHandler = options.rpcHandler;
    this.#streamManager = options.streamManager;
    this.#budget = options.budget;
    this.#onHandlerError = options.onHandlerError;
  }

  /** Requests of the peer whose replies are still being produced or written. */
  get serving(): number {
    return this.#serving;
  }

  get stats(): RequestHandlerStats {
    return { handlerErrors: this.#handlerErrors, shedRequests: this.#shedRequests };
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
        this.#rpc(message);
        return undefined;
      case MessageType.OneWayMessage:
        this.#oneWay(message);
        return undefined;
      case MessageType.UploadStream:
        return this.#upload(message);
      case MessageType.ChunkFetchRequest:
        this.#chunkFetch(message);
        return undefined;
      case MessageType.StreamRequest:
        this.#streamRequest(message);
        return undefined;
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

  #rpc(message: RpcRequest): void {
    const handler = this.#rpcHandler;
    const requestId = message.requestId;
    if (handler === undefined) {
      this.#rpcFailure(requestId, `RpcRequest refused: no RpcHandler serves this connection`);
      return;
    }
    let result: Uint8Array | Promise<Uint8Array>;
    try {
      result = handler.receive(this.#client, message.body);
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
      this.#connection.send({ type: MessageType.RpcResponse, requestId, body: reply });
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

  #upload(message: UploadStream): InboundBody {
    const handler = this.#rpcHandler;
    const requestId = message.requestId;
    if (handler?.receiveStream === undefined) {
      this.#rpcFailure(
        requestId,
        `UploadStream refused: ${
          handler === undefined ? "no RpcHandler serves" : "the RpcHandler has no receiveStream for"
        } this connection; its ${message.bodyByteCount} bytes were discarded`,
      );
      return discardBody;
    }
    const body = new InboundStream(
      message.bodyByteCount,
      this.#connection,
      this.#connection.options.streamHighWaterMark,
    );
    this.#serving++;
    const settle = (ok: boolean, outcome: unknown) => {
      this.#serving--;
      // Bytes the handler did not read are discarded so the connection stays in sync.
      body.abandon(
        new TransportError(
          `Upload ${requestId}: the handler settled before the body of ` +
            `${message.bodyByteCount} bytes was read; the rest is discarded`,
        ),
      );
      if (ok) this.#rpcReply(requestId, outcome, "RpcHandler.receiveStream");
      else this.#rpcFailure(requestId, describeError(outcome));
    };
    try {
      const result = handler.receiveStream(this.#client, message.meta, body.stream);
      if (isPromiseLike(result)) {
        result.then((reply) => settle(true, reply), (error) => settle(false, error));
      } else {
        settle(true, result);
      }
    } catch (error) {
      settle(false, error);
    }
    return body;
  }

  #chunkFetch(message: ChunkFetchRequest): void {
    const { streamId, chunkIndex } = message;
    const fail = (error: string) =>
      this.#connection.send({ type: MessageType.ChunkFetchFailure, streamId, chunkIndex, error });
    const manager = this.#streamManager;
    if (manager === undefined) {
      fail(`ChunkFetchRequest refused: no StreamManager serves this connection`);
      return;
    }
    if (!this.#budget.tryAcquire()) {
      this.#shedRequests++;
      fail(this.#busyMessage(`chunk ${chunkIndex} of stream ${streamId}`));
      return;
    }
    const succeed = (chunk: unknown) => {
      this.#serving--;
      if (!(chunk instanceof Uint8Array)) {
        this.#budget.release();
        fail(`StreamManager.getChunk returned ${describeValue(chunk)} instead of a Uint8Array`);
        return;
      }
      this.#notify(manager.chunkBeingSent, manager, streamId, "chunkBeingSent");
      this.#connection.send(
        { type: MessageType.ChunkFetchSuccess, streamId, chunkIndex, body: chunk },
        () => {
          this.#budget.release();
          this.#notify(manager.chunkSent, manager, streamId, "chunkSent");
        },
      );
    };
    const failed = (error: unknown) => {
      this.#serving--;
      this.#budget.release();
      fail(describeError(error));
    };
    this.#serving++;
    try {
      const result = manager.getChunk(streamId, chunkIndex, this.#client);
      if (isPromiseLike(result)) result.then(succeed, failed);
      else succeed(result);
    } catch (error) {
      failed(error);
    }
  }

  #streamRequest(message: StreamRequest): void {
    const slot: StreamReplySlot = {
      streamId: message.streamId,
      settled: false,
      body: undefined,
      error: undefined,
      acquired: false,
    };
    this.#streamReplies.push(slot);
    this.#serving++;
    const manager = this.#streamManager;
    const settle = (body: StreamBody | undefined, error: string | undefined) => {
      slot.settled = true;
      slot.body = body;
      slot.error = error;
      this.#flushStreamReplies();
    };
    if (manager === undefined) {
      settle(undefined, `StreamRequest refused: no StreamManager serves this connection`);
      return;
    }
    if (!this.#budget.tryAcquire()) {
      this.#shedRequests++;
      settle(undefined, this.#busyMessage(`stream '${message.streamId}'`));
      return;
    }
    slot.acquired = true;
    try {
      const result = manager.openStream(message.streamId, this.#client);
      if (isPromiseLike(result)) {
        result.then(
          (body) => settle(body, undefined),
          (error) => settle(undefined, describeError(error)),
        );
      } else {
        settle(result, undefined);
      }
    } catch (error) {
      settle(undefined, describeError(error));
    }
  }

  /** Sends settled stream replies from the head of the queue, in request order. */
  #flushStreamReplies(): void {
    const queue = this.#streamReplies;
    while (queue.length > 0 && queue[0]!.settled) {
      const slot = queue.shift()!;
      if (slot.error === undefined) slot.error = this.#sendStream(slot);
      if (slot.error !== undefined) {
        this.#serving--;
        if (slot.acquired) this.#finishStream(slot, undefined);
        this.#connection.send({
          type: MessageType.StreamFailure,
          streamId: slot.streamId,
          error: slot.error,
        });
      }
    }
  }

  /** Starts writing a stream's header and body; returns an error text if it cannot be sent. */
  #sendStream(slot: StreamReplySlot): string | undefined {
    const body = slot.body;
    const byteLength = (body as Partial<StreamBody> | undefined)?.byteLength;
    if (typeof byteLength !== "number" || !Number.isSafeInteger(byteLength) || byteLength < 0) {
      releaseBody(body);
      slot.body = undefined;
      return `StreamManager.openStream returned ${describeValue(body)} with byteLength ` +
        `${String(byteLength)}; expected a StreamBody with a non-negative integer byteLength`;
    }
    const what = `StreamResponse '${slot.streamId}' body`;
    let source;
    try {
      source = bodySource(body!.body as BodyData, what);
    } catch (error) {
      releaseBody(body);
      slot.body = undefined;
      return describeError(error);
    }
    const manager = this.#streamManager!;
    this.#notify(manager.streamBeingSent, manager, slot.streamId, "streamBeingSent");
    const done = () => {
      this.#serving--;
      this.#notify(manager.streamSent, manager, slot.streamId, "streamSent");
      this.#finishStream(slot, body);
    };
    this.#connection.sendWithBody(
      { type: MessageType.StreamResponse, streamId: slot.streamId, byteCount: byteLength },
      { byteLength, source, what },
    ).then(done, done);
    return undefined;
  }

  #finishStream(slot: StreamReplySlot, body: StreamBody | undefined): void {
    releaseBody(body);
    if (!slot.acquired) return;
    slot.acquired = false;
    this.#budget.release();
  }

  #busyMessage(what: string): string {
    return `Cannot serve ${what} now: ${this.#budget.inProgress} chunks and streams are being ` +
      `transferred, the server's limit (maxChunksBeingTransferred ${this.#budget.limit}); retry later`;
  }

  /** Calls a StreamManager transfer hook (`chunkBeingSent`, ...), which must not throw. */
  #notify<T>(
    hook: ((this: StreamManager, id: T, client?: TransportClient) => void) | undefined,
    manager: StreamManager,
    id: T,
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

function releaseBody(body: StreamBody | undefined): void {
  try {
    body?.release?.();
  } catch {
    // Releasing is best effort; the transfer is over either way.
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
