/**
 * The response side of one connection (Spark's `TransportResponseHandler`): requests this side
 * sent that wait for replies, and the matching of replies to them.
 *
 * - RPC replies (RpcResponse, RpcFailure) and MergedBlockMetaSuccess by requestId: exact int64
 *   matching, a ring for this side's sequential ids and a map for anything else (replies-by-id.ts),
 *   so any 63-bit id from any peer works.
 * - Chunk replies by (streamId, chunkIndex); concurrent fetches of the same pair are served FIFO.
 * - StreamResponse / StreamFailure in the order the StreamRequests were sent. A stream request
 *   that timed out keeps its place in that order, so its late reply is still matched (and then
 *   dropped) and the requests behind it get their own replies.
 *
 * Replies nobody waits for are dropped and counted; their raw bodies are discarded. A reply frame
 * over a limit was skipped by the decoder: only its own request fails, with a `LimitError`.
 *
 * @module
 */

import { LimitError, ProtocolError, RemoteError } from "../errors.ts";
import { describeOversizedFrame, type OversizedFrame } from "../protocol/oversized-frame.ts";
import {
  type ChunkFetchFailure,
  type ChunkFetchSuccess,
  type Int64,
  type MergedBlockMetaSuccess,
  MessageType,
  type ResponseMessage,
  type RpcFailure,
  type StreamFailure,
  type StreamResponse,
} from "../protocol/messages.ts";
import {
  type ByteStream,
  discardBody,
  type InboundBody,
  InboundStream,
  type ReadFlowControl,
} from "./inbound-body.ts";
import { ChunkReplies } from "./chunk-replies.ts";
import {
  type PendingReply,
  rejectWaiter,
  type ReplyWaiter,
  resolveWaiter,
} from "./pending-reply.ts";
import { RepliesById } from "./replies-by-id.ts";

/** A MergedBlockMetaSuccess reply: the number of chunks and the serialized bitmaps. */
export interface MergedBlockMeta {
  readonly numChunks: number;
  readonly body: Uint8Array;
}

/** A StreamRequest waiting for its StreamResponse / StreamFailure. */
export interface PendingStream {
  readonly streamId: string;
  readonly reply: PendingReply<ByteStream>;
  /** Timed out or aborted: still matched in order, then dropped. */
  abandoned: boolean;
}

export interface ResponseHandlerOptions {
  /** The peer's address, for error messages. */
  readonly peer: string;
  readonly flow: ReadFlowControl;
  /** Bytes a received stream buffers before the socket pauses. */
  readonly streamHighWaterMark: number;
  /** The number of outstanding requests went from 0 to 1. */
  onBusy(): void;
  /** A received stream was cancelled by its reader before its whole body had arrived. */
  onStreamBodyCancelled?(streamId: string, reason: unknown): void;
}

/** A (streamId, chunkIndex) pair as one string. `String` renders a number and a bigint alike. */
export function chunkKey(streamId: Int64, chunkIndex: number): string {
  return `${streamId}/${chunkIndex}`;
}

/**
 * The reply tables are made by the first request of their kind: a connection that never sends one
 * (most connections a server accepts) holds none.
 */
export class ResponseHandler {
  readonly #options: ResponseHandlerOptions;
  #rpcs: RepliesById<ReplyWaiter<Uint8Array>> | undefined;
  #metaRequests: RepliesById<PendingReply<MergedBlockMeta>> | undefined;
  #chunks: ChunkReplies<PendingReply<Uint8Array>> | undefined;
  #streams: PendingStream[] | undefined;
  #streamHead = 0;
  /** Stream requests not abandoned and not answered, plus a stream whose body is arriving. */
  #liveStreams = 0;
  #outstanding = 0;
  #dropped = 0;

  constructor(options: ResponseHandlerOptions) {
    this.#options = options;
  }

  /** Requests waiting for a reply (or a stream body still arriving). */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Replies that arrived when nobody was waiting for them (late, unknown or abandoned). */
  get droppedReplies(): number {
    return this.#dropped;
  }

  /** In-flight requests by kind, for stats. */
  get inFlight(): { rpcs: number; chunkFetches: number; streams: number } {
    return {
      rpcs: (this.#rpcs?.size ?? 0) + (this.#metaRequests?.size ?? 0),
      chunkFetches: this.#chunks?.size ?? 0,
      streams: this.#liveStreams,
    };
  }

  addRpc(requestId: Int64, reply: ReplyWaiter<Uint8Array>): void {
    (this.#rpcs ??= new RepliesById()).set(requestId, reply);
    this.#busy();
  }

  /** Forgets an RPC that failed alone (timeout, abort); a late reply is then dropped. */
  removeRpc(requestId: Int64, reply: ReplyWaiter<Uint8Array>): void {
    if (this.#rpcs?.get(requestId) !== reply) return;
    this.#rpcs.take(requestId);
    this.#outstanding--;
  }

  addMetaRequest(requestId: Int64, reply: PendingReply<MergedBlockMeta>): void {
    (this.#metaRequests ??= new RepliesById()).set(requestId, reply);
    this.#busy();
  }

  removeMetaRequest(requestId: Int64, reply: PendingReply<MergedBlockMeta>): void {
    if (this.#metaRequests?.get(requestId) !== reply) return;
    this.#metaRequests.take(requestId);
    this.#outstanding--;
  }

  addChunkFetch(streamId: Int64, chunkIndex: number, reply: PendingReply<Uint8Array>): void {
    (this.#chunks ??= new ChunkReplies()).add(streamId, chunkIndex, reply);
    this.#busy();
  }

  removeChunkFetch(streamId: Int64, chunkIndex: number, reply: PendingReply<Uint8Array>): void {
    if (this.#chunks?.remove(streamId, chunkIndex, reply) !== true) return;
    this.#outstanding--;
  }

  addStream(pending: PendingStream): void {
    (this.#streams ??= []).push(pending);
    this.#liveStreams++;
    this.#busy();
  }

  /**
   * A stream request failed alone: it keeps its place in the reply order and its reply is dropped.
   * `unsent`: the request never went out, so no reply will come; it leaves the order entirely.
   */
  abandonStream(pending: PendingStream, unsent = false): void {
    if (!pending.abandoned) {
      pending.abandoned = true;
      this.#liveStreams--;
      this.#outstanding--;
    }
    const streams = this.#streams;
    if (unsent && streams !== undefined && streams[streams.length - 1] === pending) streams.pop();
  }

  /**
   * Matches a reply to its request. Returns where the raw body of a StreamResponse goes.
   * @throws ProtocolError when a stream reply names another stream than the request it answers.
   */
  handle(message: ResponseMessage): InboundBody | undefined {
    switch (message.type) {
      case MessageType.RpcResponse:
        this.rpcResponse(message.requestId, message.body);
        return undefined;
      case MessageType.RpcFailure:
        return this.#rpcFailure(message);
      case MessageType.ChunkFetchSuccess:
      case MessageType.ChunkFetchFailure:
        return this.#chunkReply(message);
      case MessageType.StreamResponse:
      case MessageType.StreamFailure:
        return this.#streamReply(message);
      case MessageType.MergedBlockMetaSuccess:
        return this.#metaReply(message);
    }
  }

  /**
   * A reply frame over a limit whose body the decoder skipped: its request fails alone with a
   * `LimitError` naming the limit (a reply nobody waits for is dropped and counted).
   */
  oversized(frame: OversizedFrame): void {
    let reply: ReplyWaiter<Uint8Array> | PendingReply<MergedBlockMeta> | undefined;
    let what: string;
    switch (frame.type) {
      case MessageType.ChunkFetchSuccess:
        reply = this.#chunks?.take(frame.streamId, frame.chunkIndex);
        what = `Fetching chunk ${frame.chunkIndex} of stream ${frame.streamId}`;
        break;
      case MessageType.RpcResponse:
        reply = this.#rpcs?.take(frame.requestId);
        what = `RPC ${frame.requestId}`;
        break;
      case MessageType.MergedBlockMetaSuccess:
        reply = this.#metaRequests?.take(frame.requestId);
        what = `Merged block meta request ${frame.requestId}`;
        break;
      default:
        this.#dropped++;
        return;
    }
    if (reply === undefined) {
      this.#dropped++;
      return;
    }
    this.#outstanding--;
    rejectWaiter(
      reply,
      new LimitError(
        `${what} to ${this.#options.peer} failed: the reply's ${describeOversizedFrame(frame)}; ` +
          `its body was skipped and the connection kept open`,
      ),
    );
  }

  /** The connection closed: every waiting request fails with `error`. */
  failAll(error: unknown): void {
    const rpcs = this.#rpcs?.drain() ?? [];
    const metas = this.#metaRequests?.drain() ?? [];
    const chunks = this.#chunks?.drain() ?? [];
    const streams = this.#streams?.slice(this.#streamHead) ?? [];
    this.#streams = undefined;
    this.#streamHead = 0;
    this.#liveStreams = 0;
    this.#outstanding = 0;
    for (const reply of rpcs) rejectWaiter(reply, error);
    for (const reply of metas) reply.reject(error);
    for (const reply of chunks) reply.reject(error);
    for (const pending of streams) pending.reply.reject(error);
  }

  #busy(): void {
    if (this.#outstanding++ === 0) this.#options.onBusy();
  }

  /** An RpcResponse (the decoder's fast path calls this without a message object). */
  rpcResponse(requestId: Int64, body: Uint8Array): void {
    const reply = this.#rpcs?.take(requestId);
    if (reply === undefined) {
      this.#dropped++;
      return;
    }
    this.#outstanding--;
    resolveWaiter(reply, body);
  }

  #rpcFailure(message: RpcFailure): undefined {
    const id = message.requestId;
    const reply = this.#rpcs?.take(id) ?? this.#metaRequests?.take(id);
    if (reply === undefined) {
      this.#dropped++;
      return;
    }
    this.#outstanding--;
    rejectWaiter(
      reply,
      new RemoteError(
        `Request ${id} to ${this.#options.peer} failed on the remote side: ${message.error}`,
        message.error,
      ),
    );
  }

  #metaReply(message: MergedBlockMetaSuccess): undefined {
    const reply = this.#metaRequests?.take(message.requestId);
    if (reply === undefined) {
      this.#dropped++;
      return;
    }
    this.#outstanding--;
    reply.resolve({ numChunks: message.numChunks, body: message.body });
  }

  #chunkReply(message: ChunkFetchSuccess | ChunkFetchFailure): undefined {
    const reply = this.#chunks?.take(message.streamId, message.chunkIndex);
    if (reply === undefined) {
      this.#dropped++;
      return;
    }
    this.#outstanding--;
    if (message.type === MessageType.ChunkFetchSuccess) {
      reply.resolve(message.body);
    } else {
      reply.reject(
        new RemoteError(
          `Fetching chunk ${message.chunkIndex} of stream ${message.streamId} from ` +
            `${this.#options.peer} failed on the remote side: ${message.error}`,
          message.error,
        ),
      );
    }
  }

  #streamReply(message: StreamResponse | StreamFailure): InboundBody | undefined {
    const pending = this.#shiftStream();
    if (pending === undefined) {
      this.#dropped++;
      return message.type === MessageType.StreamResponse ? discardBody : undefined;
    }
    if (pending.streamId !== message.streamId) {
      pending.reply.reject(
        new ProtocolError(
          `Stream reply out of order from ${this.#options.peer}: expected a reply for stream ` +
            `'${pending.streamId}', received one for '${message.streamId}'`,
        ),
      );
      throw new ProtocolError(
        `Received a reply for stream '${message.streamId}' from ${this.#options.peer} while ` +
          `the oldest outstanding StreamRequest is for '${pending.streamId}'; stream replies must ` +
          `come in request order`,
      );
    }
    if (pending.abandoned) {
      this.#dropped++;
      return message.type === MessageType.StreamResponse ? discardBody : undefined;
    }
    if (message.type === MessageType.StreamFailure) {
      this.#liveStreams--;
      this.#outstanding--;
      pending.reply.reject(
        new RemoteError(
          `Opening stream '${message.streamId}' on ${this.#options.peer} failed on the remote ` +
            `side: ${message.error}`,
          message.error,
        ),
      );
      return undefined;
    }
    // The request stays outstanding (for the connection timeout) until its body has arrived.
    const body = new InboundStream(
      message.byteCount,
      this.#options.flow,
      this.#options.streamHighWaterMark,
      () => {
        this.#liveStreams--;
        this.#outstanding--;
      },
      this.#options.onStreamBodyCancelled &&
        ((reason) => this.#options.onStreamBodyCancelled!(message.streamId, reason)),
    );
    pending.reply.resolve(body.stream);
    return body;
  }

  #shiftStream(): PendingStream | undefined {
    const streams = this.#streams;
    if (streams === undefined || this.#streamHead >= streams.length) return undefined;
    const pending = streams[this.#streamHead++]!;
    if (this.#streamHead === streams.length) {
      this.#streams = undefined;
      this.#streamHead = 0;
    } else if (this.#streamHead >= 1024 && this.#streamHead * 2 >= streams.length) {
      this.#streams = streams.slice(this.#streamHead);
      this.#streamHead = 0;
    }
    return pending;
  }
}
