/**
 * The calling side of one `TransportClient`: the requests this side sends (RPCs, stream
 * requests, uploads, merged-block meta requests, chunk fetches), with their request ids, admission
 * and deadlines ({@linkcode RequestGate}) and their registration with the connection's
 * `ResponseHandler`. The client makes it on its first request: most connections a server accepts
 * never call their peer, and pay for none of it.
 *
 * @module
 */

import { type BodyData, bodySource } from "../connection/body-source.ts";
import type { Connection } from "../connection/connection.ts";
import type { ByteStream } from "../connection/inbound-body.ts";
import { PendingReply } from "../connection/pending-reply.ts";
import { RequestIds } from "../connection/request-ids.ts";
import type { MergedBlockMeta, PendingStream } from "../connection/response-handler.ts";
import type { CallOptions } from "../deadline.ts";
import { InvalidArgumentError } from "../errors.ts";
import { type Int64, MessageType } from "../protocol/messages.ts";
import { type ChunkConsumer, ChunkFetches } from "./chunk-fetches.ts";
import {
  checkBytes,
  checkInt32,
  uploadByteLength,
  type UploadOptions,
} from "./request-arguments.ts";
import { RequestDeadline } from "./request-deadlines.ts";
import { RequestGate, type RequestGateOptions } from "./request-gate.ts";
import { CallbackRpc, failLater, type RpcCallback } from "./rpc-callback.ts";

/**
 * An RPC with a deadline or a signal: its promise's settlers and its deadline in one object, which
 * waits in the reply table itself (no PendingReply, no closure). The `TimeoutError`'s message is
 * composed only if it expires.
 */
class WatchedRpc extends RequestDeadline {
  readonly #resolve: (body: Uint8Array) => void;
  readonly #reject: (error: unknown) => void;
  #settled = false;

  constructor(readonly requestId: number, readonly connection: Connection) {
    super();
    this.#resolve = PendingReply.takeResolve<Uint8Array>();
    this.#reject = PendingReply.takeReject();
  }
  resolve(body: Uint8Array): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(body);
    this.dispose();
  }
  reject(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
    this.dispose();
  }
  what(): string {
    return `RPC ${this.requestId} to ${this.connection.peer}`;
  }
  expired(error: unknown): void {
    this.connection.responses.removeRpc(this.requestId, this);
    this.reject(error);
  }
}

/** The deadline of an upload (its reply is an RpcResponse matched by request id). */
class UploadDeadline extends RequestDeadline {
  constructor(
    readonly reply: PendingReply<Uint8Array>,
    readonly requestId: number,
    readonly connection: Connection,
  ) {
    super();
    reply.deadline = this;
  }
  what(): string {
    return `Upload ${this.requestId} to ${this.connection.peer}`;
  }
  expired(error: unknown): void {
    this.connection.responses.removeRpc(this.requestId, this.reply);
    this.reply.reject(error);
  }
}

export class OutgoingRequests {
  readonly gate: RequestGate;
  readonly #connection: Connection;
  readonly #ids = new RequestIds();
  readonly #chunks: ChunkFetches;

  constructor(connection: Connection, options: RequestGateOptions) {
    this.#connection = connection;
    this.gate = new RequestGate(connection, options);
    this.#chunks = new ChunkFetches(connection, this.gate);
  }

  /** `TransportClient.sendRpc`. */
  rpc(body: Uint8Array, options: CallOptions | undefined): Promise<Uint8Array> {
    const gate = this.gate;
    const refused = checkBytes(body, "sendRpc body") ?? gate.refuse("RPC", options);
    if (refused !== undefined) return Promise.reject(refused);
    const requestId = this.#ids.next();
    const connection = this.#connection;
    const responses = connection.responses;
    const timeoutMs = options?.timeoutMs ?? gate.requestTimeoutMs;
    const signal = options?.signal;
    if (!(timeoutMs > 0) && signal === undefined) {
      // Nothing to watch: the reply needs only the promise's resolve function (no PendingReply).
      const promise = PendingReply.bare<Uint8Array>();
      const resolve = PendingReply.takeResolve<Uint8Array>();
      responses.addRpc(requestId, resolve);
      try {
        connection.sendRpc(MessageType.RpcRequest, requestId, body);
      } catch (error) {
        responses.removeRpc(requestId, resolve);
        return Promise.reject(error);
      }
      return promise;
    }
    const promise = PendingReply.bareWithReject<Uint8Array>();
    const rpc = new WatchedRpc(requestId, connection);
    responses.addRpc(requestId, rpc);
    try {
      connection.sendRpc(MessageType.RpcRequest, requestId, body);
    } catch (error) {
      responses.removeRpc(requestId, rpc);
      rpc.reject(error);
      return promise;
    }
    gate.deadlines.watch(rpc, timeoutMs, signal);
    return promise;
  }

  /** `TransportClient.sendRpcWith`. */
  rpcWith(body: Uint8Array, callback: RpcCallback, options: CallOptions | undefined): void {
    if (
      typeof callback?.onSuccess !== "function" || typeof callback.onFailure !== "function"
    ) {
      throw new InvalidArgumentError(
        `sendRpcWith: callback must have onSuccess and onFailure methods, got ${
          callback === null ? "null" : typeof callback
        }`,
      );
    }
    const gate = this.gate;
    const refused = checkBytes(body, "sendRpcWith body") ?? gate.refuse("RPC", options);
    if (refused !== undefined) return failLater(callback, refused);
    const requestId = this.#ids.next();
    const connection = this.#connection;
    const responses = connection.responses;
    const rpc = new CallbackRpc(requestId, connection, callback);
    responses.addRpc(requestId, rpc);
    try {
      connection.sendRpc(MessageType.RpcRequest, requestId, body);
    } catch (error) {
      responses.removeRpc(requestId, rpc);
      return failLater(callback, error);
    }
    const timeoutMs = options?.timeoutMs ?? gate.requestTimeoutMs;
    const signal = options?.signal;
    if (timeoutMs > 0 || signal !== undefined) gate.deadlines.watch(rpc, timeoutMs, signal);
  }

  /** `TransportClient.fetchChunk`. */
  fetchChunk(
    streamId: Int64,
    chunkIndex: number,
    options: CallOptions | undefined,
  ): Promise<Uint8Array> {
    return this.#chunks.fetch(streamId, chunkIndex, options);
  }

  /** `TransportClient.fetchChunkWith`. */
  fetchChunkWith<T>(
    streamId: Int64,
    chunkIndex: number,
    consume: ChunkConsumer<T>,
    options: CallOptions | undefined,
  ): Promise<T> {
    return this.#chunks.fetchWith(streamId, chunkIndex, consume, options);
  }

  /** `TransportClient.stream`. */
  stream(streamId: string, options: CallOptions | undefined): Promise<ByteStream> {
    if (typeof streamId !== "string") {
      return Promise.reject(
        new InvalidArgumentError(`stream: streamId must be a string, got ${typeof streamId}`),
      );
    }
    const refused = this.gate.refuse("stream request", options);
    if (refused !== undefined) return Promise.reject(refused);
    const deadline = this.gate.deadline(options);
    const responses = this.#connection.responses;
    const reply = PendingReply.create<ByteStream>();
    const pending: PendingStream = { streamId, reply, abandoned: false };
    responses.addStream(pending);
    return this.gate.issue(
      reply,
      { type: MessageType.StreamRequest, streamId },
      // Unsent: no reply will come, so the entry must not wait in the reply order.
      (unsent) => responses.abandonStream(pending, unsent),
      deadline,
      `Opening stream '${streamId}' on ${this.#connection.peer}`,
      (reason) => ({ kind: "stream", streamId, reason }),
    );
  }

  /** `TransportClient.uploadStream`. */
  upload(
    meta: Uint8Array,
    data: BodyData,
    options: UploadOptions | undefined,
  ): Promise<Uint8Array> {
    const invalid = checkBytes(meta, "uploadStream meta");
    if (invalid !== undefined) return Promise.reject(invalid);
    let byteLength: number;
    let source;
    try {
      byteLength = uploadByteLength(data, options?.byteLength);
      source = bodySource(data, "uploadStream data");
    } catch (error) {
      return Promise.reject(error);
    }
    const refused = this.gate.refuse("upload", options);
    if (refused !== undefined) {
      source.cancel(refused);
      return Promise.reject(refused);
    }
    const deadline = this.gate.deadline(options);
    const requestId = this.#ids.next();
    const responses = this.#connection.responses;
    const reply = PendingReply.create<Uint8Array>();
    responses.addRpc(requestId, reply);
    this.#connection.sendWithBody(
      { type: MessageType.UploadStream, requestId, meta, bodyByteCount: byteLength },
      { byteLength, source, what: `UploadStream ${requestId} body` },
    ).catch((error) => {
      // The connection closed (and failed this upload) already; this only covers an early reject.
      responses.removeRpc(requestId, reply);
      reply.reject(error);
    });
    if (deadline !== undefined && !reply.settled) {
      this.gate.watch(new UploadDeadline(reply, requestId, this.#connection), deadline);
    }
    return reply.promise!;
  }

  /** `TransportClient.sendMergedBlockMetaRequest`. */
  mergedBlockMeta(
    appId: string,
    shuffleId: number,
    shuffleMergeId: number,
    reduceId: number,
    options: CallOptions | undefined,
  ): Promise<MergedBlockMeta> {
    if (typeof appId !== "string") {
      return Promise.reject(
        new InvalidArgumentError(`sendMergedBlockMetaRequest: appId must be a string`),
      );
    }
    const invalid = checkInt32(shuffleId, "sendMergedBlockMetaRequest: shuffleId") ??
      checkInt32(shuffleMergeId, "sendMergedBlockMetaRequest: shuffleMergeId") ??
      checkInt32(reduceId, "sendMergedBlockMetaRequest: reduceId");
    if (invalid !== undefined) return Promise.reject(invalid);
    const refused = this.gate.refuse("MergedBlockMetaRequest", options);
    if (refused !== undefined) return Promise.reject(refused);
    const deadline = this.gate.deadline(options);
    const requestId = this.#ids.next();
    const responses = this.#connection.responses;
    const reply = PendingReply.create<MergedBlockMeta>();
    responses.addMetaRequest(requestId, reply);
    return this.gate.issue(
      reply,
      {
        type: MessageType.MergedBlockMetaRequest,
        requestId,
        appId,
        shuffleId,
        shuffleMergeId,
        reduceId,
      },
      () => responses.removeMetaRequest(requestId, reply),
      deadline,
      `MergedBlockMetaRequest ${requestId} to ${this.#connection.peer}`,
    );
  }
}
