/**
 * One connection: a socket, a frame decoder, an outbound frame writer and the dispatch between
 * them (Spark's `TransportChannelHandler`).
 *
 * Every connection is bidirectional: replies go to the {@linkcode ResponseHandler} (the requests
 * this side sent), requests go to the {@linkcode RequestSide} (what this side serves). An optional
 * interceptor sees every inbound message first, for bootstraps such as authentication.
 *
 * Failure semantics: a protocol violation, a slow consumer (write hard cap), a broken outbound
 * body, a quiet connection with requests outstanding or a frame/body that stops arriving
 * (`noProgressTimeoutMs`) closes the connection. A frame over its limit does not: it is skipped
 * and fails alone (inbound-limits.ts). However it closes (locally or by the peer, gracefully or
 * not), every outstanding request fails at once with a `ConnectionClosedError` whose `cause` is
 * the reason, and a stream body still arriving errors.
 *
 * @module
 */

import { systemClock } from "../clock.ts";
import type { TransportError } from "../errors.ts";
import { encodeMessage } from "../protocol/encoder.ts";
import type {
  Int64,
  Message,
  RpcRequest,
  RpcResponse,
  StreamResponse,
  UploadStream,
} from "../protocol/messages.ts";
import type { Socket, SocketClosed, SocketSink } from "../socket.ts";
import type { MessageTap } from "../observability/connection-tap.ts";
import { closedError } from "./connection-closed-error.ts";
import { ConnectionDeadlines } from "./connection-deadlines.ts";
import type { ConnectionCounters, ConnectionOptions } from "./connection-options.ts";
import { ConnectionReader } from "./connection-reader.ts";
import {
  FrameWriter,
  type FrameWriterOptions,
  type OutboundBody,
  type WrittenCallback,
} from "./frame-writer.ts";
import type { ReadFlowControl } from "./inbound-body.ts";
import type { ConnectionClosedError } from "../errors.ts";
import type { MessageInterceptor, RequestSide, RequestSideMaker } from "./request-side.ts";
import { ResponseHandler, type ResponseHandlerOptions } from "./response-handler.ts";

export type { ConnectionCounters, ConnectionOptions } from "./connection-options.ts";
export type { MessageInterceptor, RequestSide } from "./request-side.ts";

/** `closed`: closing (locally) or closed; `ended`: the socket has ended too. */
type State = "open" | "closed" | "ended";

export class Connection implements ReadFlowControl {
  readonly socket: Socket;
  readonly options: ConnectionOptions;
  readonly writer: FrameWriter;
  interceptor: MessageInterceptor | undefined;
  /** What the interceptor is called with besides the message (the client owning the connection). */
  interceptorOwner: unknown;
  /** Sees every message sent and received, for metrics and channels (set only while observed). */
  tap: MessageTap | undefined;
  /** A received stream was cancelled by its reader before its whole body had arrived. */
  onStreamBodyCancelled: ((streamId: string, reason: unknown) => void) | undefined;

  readonly #reader: ConnectionReader;
  #state: State = "open";
  /** Why this side closed the connection (undefined: graceful, or closed by the peer). */
  #localReason: unknown = undefined;
  #closedError: ConnectionClosedError | undefined;
  #messagesSent = 0;
  /** `responses`, made by the first request of this side (or the first reply). */
  #responses: ResponseHandler | undefined;
  /** `closed`, made when first asked for. */
  #closed: Promise<SocketClosed> | undefined;

  /**
   * What the socket, the writer, the deadlines and the response handler call back into: ONE
   * object per connection whose
   * methods live on a shared prototype, instead of an object of closures per part — about 1.5 KB
   * of closures, contexts and objects that a server holding 10 000 idle connections paid 10 000
   * times. Nested here to reach the private state. (The decoder and the inbound frame room call
   * the {@linkcode ConnectionReader} directly.)
   */
  static readonly #Hooks = class ConnectionHooks extends ConnectionDeadlines
    implements SocketSink, FrameWriterOptions, ResponseHandlerOptions {
    readonly #connection: Connection;

    constructor(connection: Connection) {
      super(connection.options, connection.options.clock ?? systemClock);
      this.#connection = connection;
    }

    // Read from the connection: fields copied here would cost every connection their slots.
    get peer(): string {
      return this.#connection.peer;
    }
    get writeHardCap(): number {
      return this.#connection.options.writeHardCap;
    }
    get flow(): ReadFlowControl {
      return this.#connection;
    }
    get streamHighWaterMark(): number {
      return this.#connection.options.streamHighWaterMark;
    }

    // ResponseHandler
    onBusy(): void {
      this.busy();
    }
    onStreamBodyCancelled(streamId: string, reason: unknown): void {
      this.#connection.onStreamBodyCancelled?.(streamId, reason);
    }

    // SocketSink
    data(chunk: Uint8Array): void {
      this.#connection.#reader.data(chunk);
    }
    readBuffer(pastEnd?: boolean): Uint8Array | undefined {
      return this.#connection.#reader.readBuffer(pastEnd);
    }
    drain(): void {
      this.#connection.writer.drain();
    }
    close(error: unknown): void {
      const connection = this.#connection;
      if (connection.#state === "ended") return;
      try {
        connection.#terminate(error, false);
      } finally {
        connection.#state = "ended";
        connection.options.onEnded?.(connection.interceptorOwner, connection.closedWith({ error }));
      }
    }

    // FrameWriter
    onFatal(error: unknown): void {
      this.#connection.close(error);
    }
    onBlocked(): void {
      this.blocked();
    }
    now(): number {
      return (this.#connection.options.clock ?? systemClock).now();
    }

    // ConnectionDeadlines
    hasOutstanding(): boolean {
      return this.#connection.outstanding > 0;
    }
    isReadPaused(): boolean {
      return this.#connection.#reader.paused;
    }
    /** A deadline passed: `graceful` ends the connection cleanly, else it is reset. */
    expire(error: TransportError, graceful: boolean): void {
      if (graceful) this.#connection.close();
      else this.#connection.close(error);
    }
    messagesReceived(): number {
      return this.#connection.#reader.messagesReceived;
    }
    bytesReceived(): number {
      return this.#connection.#reader.bytesReceived;
    }
    blockedSince(): number | undefined {
      return this.#connection.writer.blockedSince;
    }
    queuedBytes(): number {
      return this.#connection.writer.queuedBytes;
    }
    isMidFrame(): boolean {
      return this.#connection.#reader.midFrame;
    }
    isReadPausedByConsumer(): boolean {
      return this.#connection.#reader.pausedByConsumer;
    }
    isBusy(): boolean {
      const connection = this.#connection;
      const reader = connection.#reader;
      return connection.outstanding > 0 || reader.serving > 0 ||
        connection.writer.queuedBytes > 0 || reader.receivingBody;
    }
  };

  /**
   * The hooks: the socket's sink (attached by `start`), the response handler's options, and the
   * connection's deadlines (which they extend).
   */
  readonly #hooks: ConnectionDeadlines & SocketSink & ResponseHandlerOptions;

  constructor(socket: Socket, options: ConnectionOptions) {
    this.socket = socket;
    this.options = options;
    const hooks = new Connection.#Hooks(this);
    this.#hooks = hooks;
    this.writer = new FrameWriter(socket, hooks);
    this.#reader = new ConnectionReader(this, options);
  }

  /** The peer's address, for messages (the socket's, read where it is). */
  get peer(): string {
    return this.socket.info.remoteAddress;
  }

  /** Settles once the socket has ended, with the reason the connection closed. */
  get closed(): Promise<SocketClosed> {
    return this.#closed ??= this.socket.closed.then((closed) => this.closedWith(closed));
  }

  /**
   * What `closed` settles with once the socket ended with `ended`: lets an observer of the
   * socket's own `closed` learn it without making `closed` (a promise and a closure per idle
   * connection).
   */
  closedWith(ended: SocketClosed): SocketClosed {
    return { error: this.#localReason ?? ended.error };
  }

  /** The requests this side sent that wait for replies, and the matching of replies to them. */
  get responses(): ResponseHandler {
    return this.#responses ??= new ResponseHandler(this.#hooks);
  }

  /** Requests of this side waiting for replies (without making the response handler). */
  get outstanding(): number {
    return this.#responses?.outstanding ?? 0;
  }

  /** Whether the connection can still carry requests. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** The error new requests fail with once the connection is closed. */
  get closedError(): ConnectionClosedError | undefined {
    return this.#closedError;
  }

  get counters(): ConnectionCounters {
    const writer = this.writer.stats;
    const reader = this.#reader;
    return {
      bytesReceived: reader.bytesReceived,
      bytesSent: writer.bytesWritten,
      messagesReceived: reader.messagesReceived,
      messagesSent: this.#messagesSent,
      socketWrites: writer.socketWrites,
      retainedFrameBytes: reader.retainedFrameBytes,
      oversizedFrames: reader.oversizedFrames,
    };
  }

  /**
   * Takes back a received body that was lent to a caller (`TransportClient.fetchChunkWith`) once
   * the caller is done with it: if it is a view of a buffer a large frame was assembled in, that
   * buffer will hold a later frame, so nothing may reference it afterwards. Any other memory (a
   * body that was a view of a received chunk, a second release) is ignored.
   */
  releaseLentBody(body: Uint8Array): void {
    this.#reader.releaseLentBody(body);
  }

  /**
   * Starts reading: inbound requests go to `requests` (a maker: to what it makes from
   * `interceptorOwner` when the first request, or the end, needs it). Call exactly once.
   */
  start(requests: RequestSide | RequestSideMaker): void {
    this.#reader.start(requests);
    this.socket.attach(this.#hooks);
    if (this.#state === "open") this.#hooks.start();
  }

  /**
   * Queues one message. `onWritten` runs once it has been handed to the socket or dropped.
   * `giveBack` lends the message's body: it runs at most once, when the socket no longer reads
   * the body, so its owner may reuse the memory (`FrameWriter`'s "Lent bodies"); when it does not
   * run, the body is the garbage collector's. A closed connection drops the message silently (its
   * requests already failed).
   * @throws InvalidArgumentError when a field cannot be encoded.
   */
  send(message: Message, onWritten?: WrittenCallback, giveBack?: () => void): void {
    if (this.#state !== "open") {
      onWritten?.();
      return;
    }
    this.writer.writeMessage(message, onWritten, giveBack);
    this.#messagesSent++;
    this.tap?.sent(message);
  }

  /**
   * `send` of an RpcRequest / RpcResponse given as its fields: without a tap to show it to, no
   * message object is built (the per-RPC path of both sides).
   * @throws InvalidArgumentError when a field cannot be encoded.
   */
  sendRpc(
    type: (RpcRequest | RpcResponse)["type"],
    requestId: Int64,
    body: Uint8Array,
  ): void {
    if (this.#state !== "open") return;
    if (this.tap !== undefined) {
      this.send({ type, requestId, body });
      return;
    }
    this.writer.writeRpc(type, requestId, body);
    this.#messagesSent++;
  }

  /**
   * Queues a StreamResponse / UploadStream frame and its raw body. Resolves once the whole body is
   * queued for the socket; rejects if the connection closes first or the body is broken (which
   * closes the connection).
   */
  sendWithBody(message: StreamResponse | UploadStream, body: OutboundBody): Promise<void> {
    if (this.#state !== "open") {
      body.source.cancel(this.#closedError);
      return Promise.reject(this.#closedError);
    }
    let frame: Uint8Array[];
    try {
      frame = encodeMessage(message);
    } catch (error) {
      body.source.cancel(error);
      return Promise.reject(error);
    }
    this.#messagesSent++;
    this.tap?.sent(message);
    return this.writer.writeWithBody(frame, body);
  }

  /** The reader is inside a frame or an announced body: its bytes must keep coming. */
  midFrame(): void {
    this.#hooks.midFrame();
  }

  pauseReading(owner: object): void {
    this.#reader.pause(owner);
  }

  resumeReading(owner: object): void {
    this.#reader.resume(owner);
  }

  /**
   * Closes the connection. Without `reason`: graceful (queued frames are flushed, then the socket
   * ends). With `reason`: the socket is reset and `reason` becomes the cause of every failure.
   */
  close(reason?: unknown): void {
    if (this.#state !== "open") {
      // Already closing gracefully: a reason turns it into a reset (the socket ignores it if ended).
      if (reason !== undefined) this.socket.close(reason);
      return;
    }
    this.#localReason = reason;
    this.#terminate(reason, true);
  }

  #terminate(reason: unknown, local: boolean): void {
    if (this.#state !== "open") return;
    this.#state = "closed";
    this.#reader.stop();
    this.#hooks.stop();
    const error = closedError(this.peer, reason, local);
    this.#closedError = error;
    if (local && reason === undefined) {
      this.writer.flushAndClose(error);
      this.socket.close();
    } else {
      this.writer.abort(error);
      if (local) this.socket.close(reason);
    }
    this.#reader.failBody(error);
    this.#responses?.failAll(error);
    this.#reader.terminate(reason);
  }
}
