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

import { type Clock, systemClock } from "../clock.ts";
import { ConnectionClosedError, describeError, type TransportError } from "../errors.ts";
import { FrameDecoder, type FrameHandler } from "../protocol/decoder.ts";
import type { OversizedFrame } from "../protocol/oversized-frame.ts";
import { encodeMessage } from "../protocol/encoder.ts";
import {
  type Int64,
  isRequest,
  type Message,
  MessageType,
  type RequestMessage,
  type StreamResponse,
  type UploadStream,
} from "../protocol/messages.ts";
import type { Socket, SocketClosed } from "../socket.ts";
import { FrameBufferPool } from "./frame-buffer-pool.ts";
import {
  FrameWriter,
  type FrameWriterOptions,
  type OutboundBody,
  type WrittenCallback,
} from "./frame-writer.ts";
import { discardBody, type InboundBody, type ReadFlowControl } from "./inbound-body.ts";
import { type ConnectionDeadlineHost, ConnectionDeadlines } from "./connection-deadlines.ts";
import type { InboundFrameBudget } from "./inbound-frame-budget.ts";
import {
  InboundFrameRoom,
  type InboundFrameRoomHost,
  refuseOversizedRequest,
} from "./inbound-limits.ts";
import { ResponseHandler } from "./response-handler.ts";
import type { MessageTap } from "../observability/connection-tap.ts";

/** What a connection does with the requests its peer sends (Spark's `TransportRequestHandler`). */
export interface RequestSide {
  /** A request from the peer. Returns where an UploadStream's raw body goes. */
  handle(message: RequestMessage): InboundBody | undefined;
  /** The connection closed (`error` undefined for a graceful close). Called once. */
  terminate(error: unknown): void;
  /** Requests of the peer being served (replies not yet produced); the idle deadline waits. */
  readonly serving: number;
}

/** Sees an inbound message before dispatch; returns `true` to consume it (no dispatch). */
export type MessageInterceptor = (message: Message) => boolean;

export interface ConnectionOptions {
  readonly maxFrameLength: number;
  /** ChunkFetchSuccess / RpcResponse frames are accepted up to this length (default: the above). */
  readonly maxReplyFrameLength?: number;
  /**
   * Largest RpcRequest / OneWayMessage body the request side takes (its RpcHandler's
   * `maxRequestBytes`), and that limit's name: a larger request is skipped unread and refused.
   */
  readonly maxRequestBodyBytes?: number;
  readonly requestLimitName?: string;
  /** Charged for every frame assembled across received chunks (default: nothing is charged). */
  readonly inboundFrameBudget?: InboundFrameBudget;
  /** Mid-frame or mid-body and no byte received for this long: reset; 0 / absent = never. */
  readonly noProgressTimeoutMs?: number;
  readonly writeHardCap: number;
  /** Requests outstanding and nothing received for this long closes the connection; 0 = never. */
  readonly connectionTimeoutMs: number;
  /** Bytes a received stream or upload body buffers before reading pauses. */
  readonly streamHighWaterMark: number;
  /** The peer must send a complete frame within this long of opening; 0 = no deadline. */
  readonly firstFrameTimeoutMs?: number;
  /** No complete frame and nothing in flight for this long closes gracefully; 0 = never. */
  readonly idleTimeoutMs?: number;
  /** Outbound bytes above the high-water mark without a drain this long: reset; 0 = never. */
  readonly slowConsumerTimeoutMs?: number;
  /** A received stream was cancelled by its reader before its whole body had arrived. */
  readonly onStreamBodyCancelled?: (streamId: string, reason: unknown) => void;
  /** Arms the connection's one deadline timer and stamps blocked writes (default: real time). */
  readonly clock?: Clock;
}

/** Traffic counters of one connection. */
export interface ConnectionCounters {
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly messagesSent: number;
  /** Socket writes (frames written in the same tick share one). */
  readonly socketWrites: number;
  /** Bytes of free frame buffers kept to assemble later large frames in (lent bodies return). */
  readonly retainedFrameBytes: number;
  /** Frames over a limit whose bodies were skipped (each failed alone; see inbound-limits.ts). */
  readonly oversizedFrames: number;
}

type State = "open" | "closed";

export class Connection implements ReadFlowControl {
  readonly socket: Socket;
  /** The peer's address, for messages. */
  readonly peer: string;
  readonly options: ConnectionOptions;
  readonly responses: ResponseHandler;
  readonly writer: FrameWriter;
  /** Settles once the socket has ended, with the reason the connection closed. */
  readonly closed: Promise<SocketClosed>;
  interceptor: MessageInterceptor | undefined;
  /** Sees every message sent and received, for metrics and channels (set only while observed). */
  tap: MessageTap | undefined;

  readonly #decoder: FrameDecoder;
  readonly #frameBuffers: FrameBufferPool;
  readonly #deadlines: ConnectionDeadlines;
  /** Waits for inbound frame memory (undefined without a budget). */
  readonly #room: InboundFrameRoom | undefined;
  #requests: RequestSide | undefined;
  #state: State = "open";
  /** Why this side closed the connection (undefined: graceful, or closed by the peer). */
  #localReason: unknown = undefined;
  #closedError: ConnectionClosedError | undefined;
  /** Where the raw bytes after the current StreamResponse / UploadStream go. */
  #body: InboundBody | undefined;
  readonly #readPausers = new Set<object>();
  #decoding = false;
  /** Chunks that arrived while the decoder was busy (re-entrant delivery). */
  #deferred: Uint8Array[] | undefined;
  #bytesReceived = 0;
  #messagesReceived = 0;
  #messagesSent = 0;
  #oversizedFrames = 0;

  /**
   * What the connection's parts call back into (writer, deadlines, inbound frame room, decoder): ONE object per connection whose methods live on a shared prototype, instead of
   * an object of closures per part — about 1.5 KB of closures, contexts and objects that a server
   * holding 10 000 idle connections paid 10 000 times. Nested here to reach the private state.
   */
  static readonly #Hooks = class ConnectionHooks
    implements FrameWriterOptions, ConnectionDeadlineHost, InboundFrameRoomHost, FrameHandler {
    readonly peer: string;
    readonly writeHardCap: number;
    readonly #connection: Connection;
    readonly #clock: Clock;

    constructor(connection: Connection, clock: Clock) {
      this.#connection = connection;
      this.#clock = clock;
      this.peer = connection.peer;
      this.writeHardCap = connection.options.writeHardCap;
    }

    // FrameWriter
    onFatal(error: unknown): void {
      this.#connection.close(error);
    }
    onBlocked(): void {
      this.#connection.#deadlines.blocked();
    }
    now(): number {
      return this.#clock.now();
    }

    // ConnectionDeadlines
    hasOutstanding(): boolean {
      return this.#connection.responses.outstanding > 0;
    }
    isReadPaused(): boolean {
      return this.#connection.#readPausers.size > 0;
    }
    /** A deadline passed: `graceful` ends the connection cleanly, else it is reset. */
    expire(error: TransportError, graceful: boolean): void {
      if (graceful) this.#connection.close();
      else this.#connection.close(error);
    }
    messagesReceived(): number {
      return this.#connection.#messagesReceived;
    }
    bytesReceived(): number {
      return this.#connection.#bytesReceived;
    }
    blockedSince(): number | undefined {
      return this.#connection.writer.blockedSince;
    }
    queuedBytes(): number {
      return this.#connection.writer.queuedBytes;
    }
    midFrame(): boolean {
      return this.#connection.#decoder.midFrame;
    }
    isReadPausedByConsumer(): boolean {
      // Waiting for inbound frame memory is not a consumer's pause: the deadline frees it.
      const connection = this.#connection;
      return connection.#readPausers.size > (connection.#room?.waiting === true ? 1 : 0);
    }
    isBusy(): boolean {
      const connection = this.#connection;
      return connection.responses.outstanding > 0 || (connection.#requests?.serving ?? 0) > 0 ||
        connection.writer.queuedBytes > 0 || connection.#body !== undefined;
    }

    // InboundFrameRoom
    pause(owner: object): void {
      this.#connection.pauseReading(owner);
    }
    resume(owner: object): void {
      this.#connection.resumeReading(owner);
    }
    isOpen(): boolean {
      return this.#connection.#state === "open";
    }
    granted(): void {
      this.#connection.#decode(undefined);
    }

    // FrameDecoder
    message(message: Message): void {
      this.#connection.#dispatch(message);
    }
    rpcResponse(requestId: Int64, body: Uint8Array): void {
      const connection = this.#connection;
      // Without an interceptor to show it to, an RpcResponse needs no message object.
      if (
        connection.interceptor !== undefined || connection.tap !== undefined ||
        connection.#state !== "open"
      ) {
        connection.#dispatch({ type: MessageType.RpcResponse, requestId, body });
        return;
      }
      connection.#messagesReceived++;
      connection.responses.rpcResponse(requestId, body);
    }
    body(chunk: Uint8Array): void {
      this.#connection.#body?.data(chunk);
    }
    bodyEnd(): void {
      const connection = this.#connection;
      const body = connection.#body;
      connection.#body = undefined;
      body?.end();
    }
    oversized(frame: OversizedFrame): void {
      this.#connection.#oversized(frame);
    }
  };

  constructor(socket: Socket, options: ConnectionOptions) {
    this.socket = socket;
    this.options = options;
    this.peer = socket.info.remoteAddress;
    const clock = options.clock ?? systemClock;
    const hooks = new Connection.#Hooks(this, clock);
    this.writer = new FrameWriter(socket, hooks);
    this.#deadlines = new ConnectionDeadlines(
      {
        firstFrameTimeoutMs: options.firstFrameTimeoutMs ?? 0,
        idleTimeoutMs: options.idleTimeoutMs ?? 0,
        slowConsumerTimeoutMs: options.slowConsumerTimeoutMs ?? 0,
        noProgressTimeoutMs: options.noProgressTimeoutMs ?? 0,
        connectionTimeoutMs: options.connectionTimeoutMs,
      },
      hooks,
      clock,
    );
    this.responses = new ResponseHandler({
      peer: this.peer,
      flow: this,
      streamHighWaterMark: options.streamHighWaterMark,
      onBusy: () => this.#deadlines.busy(),
      onStreamBodyCancelled: options.onStreamBodyCancelled,
    });
    // Large frames are filled by received bytes before anything reads them: no zero-filling.
    this.#frameBuffers = new FrameBufferPool(
      socket.allocateUninitialized === undefined
        ? {}
        : { allocateFresh: (size) => socket.allocateUninitialized!(size) },
    );
    const budget = options.inboundFrameBudget;
    this.#room = budget === undefined ? undefined : new InboundFrameRoom(budget, hooks);
    this.#decoder = new FrameDecoder(hooks, {
      maxFrameLength: options.maxFrameLength,
      ...(options.maxReplyFrameLength === undefined
        ? {}
        : { maxReplyFrameLength: options.maxReplyFrameLength }),
      ...(options.maxRequestBodyBytes === undefined ? {} : {
        maxRequestBodyBytes: options.maxRequestBodyBytes,
        requestLimitName: options.requestLimitName ?? "maxRequestBytes",
      }),
      ...(this.#room === undefined ? {} : { memory: this.#room }),
      allocate: (size) => this.#frameBuffers.allocate(size),
    });
    this.closed = socket.closed.then((closed) => ({
      error: this.#localReason ?? closed.error,
    }));
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
    return {
      bytesReceived: this.#bytesReceived,
      bytesSent: writer.bytesWritten,
      messagesReceived: this.#messagesReceived,
      messagesSent: this.#messagesSent,
      socketWrites: writer.socketWrites,
      retainedFrameBytes: this.#frameBuffers.retainedBytes,
      oversizedFrames: this.#oversizedFrames,
    };
  }

  /**
   * Takes back a received body that was lent to a caller (`TransportClient.fetchChunkWith`) once
   * the caller is done with it: if it is a view of a buffer a large frame was assembled in, that
   * buffer will hold a later frame, so nothing may reference it afterwards. Any other memory (a
   * body that was a view of a received chunk, a second release) is ignored.
   */
  releaseLentBody(body: Uint8Array): void {
    this.#frameBuffers.release(body);
  }

  /** Starts reading: inbound requests go to `requests`. Call exactly once. */
  start(requests: RequestSide): void {
    this.#requests = requests;
    this.socket.attach({
      data: (chunk) => this.#onData(chunk),
      readBuffer: () =>
        this.#state === "open" && !this.#decoding ? this.#decoder.readBuffer() : undefined,
      drain: () => this.writer.drain(),
      close: (error) => this.#terminate(error, false),
    });
    if (this.#state === "open") this.#deadlines.start();
  }

  /**
   * Queues one message. `onWritten` runs once it has been handed to the socket or dropped.
   * A closed connection drops it silently (its requests already failed).
   * @throws InvalidArgumentError when a field cannot be encoded.
   */
  send(message: Message, onWritten?: WrittenCallback): void {
    if (this.#state !== "open") {
      onWritten?.();
      return;
    }
    this.writer.writeMessage(message, onWritten);
    this.#messagesSent++;
    this.tap?.sent(message);
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

  pauseReading(owner: object): void {
    if (this.#state !== "open" || this.#readPausers.has(owner)) return;
    this.#readPausers.add(owner);
    if (this.#readPausers.size === 1) this.socket.pause();
  }

  resumeReading(owner: object): void {
    if (!this.#readPausers.delete(owner)) return;
    if (this.#readPausers.size === 0 && this.#state === "open") this.socket.resume();
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

  #onData(chunk: Uint8Array): void {
    if (this.#state !== "open") return;
    this.#bytesReceived += chunk.byteLength;
    if (this.#decoding) {
      // An adapter delivered data from inside a dispatch (e.g. synchronously on `resume()`): the
      // decoder must not be re-entered, so the chunk waits for the current push to finish.
      (this.#deferred ??= []).push(chunk);
      return;
    }
    this.#decode(chunk);
  }

  /** Decodes `chunk`, or (undefined) the bytes held while the decoder waited for memory. */
  #decode(chunk: Uint8Array | undefined): void {
    if (this.#state !== "open" || this.#decoding) return;
    this.#decoding = true;
    try {
      if (chunk === undefined) this.#decoder.roomGranted();
      else this.#decoder.push(chunk);
      while (this.#deferred !== undefined && this.#state === "open") {
        const deferred = this.#deferred;
        this.#deferred = undefined;
        for (const next of deferred) this.#decoder.push(next);
      }
      // Observed: a frame left unfinished began in these bytes (its reply's first byte).
      if (
        this.tap !== undefined && this.#decoder.midFrame && this.#decoder.state !== "stream-body"
      ) this.tap.frameStarted?.();
    } catch (error) {
      this.close(error);
    } finally {
      this.#decoding = false;
      this.#deferred = undefined;
    }
    // Inside a frame or an announced body: its bytes must keep coming (one check per chunk).
    if (this.#state === "open" && this.#decoder.midFrame) this.#deadlines.midFrame();
  }

  /** A frame over its limit was skipped: it fails alone, the connection goes on. */
  #oversized(frame: OversizedFrame): void {
    this.#messagesReceived++;
    this.#oversizedFrames++;
    if (this.#state !== "open") return;
    switch (frame.type) {
      case MessageType.RpcRequest:
      case MessageType.UploadStream:
        this.send(refuseOversizedRequest(frame));
        return;
      case MessageType.OneWayMessage:
        return; // no reply exists; counted in oversizedFrames
      default:
        this.responses.oversized(frame);
    }
  }

  #dispatch(message: Message): void {
    this.#messagesReceived++;
    this.tap?.received(message);
    const hasBody = message.type === MessageType.StreamResponse ||
      message.type === MessageType.UploadStream;
    let body: InboundBody | undefined;
    if (this.#state === "open") {
      const interceptor = this.interceptor;
      if (interceptor !== undefined && interceptor(message)) body = undefined;
      else if (isRequest(message)) body = this.#requests!.handle(message);
      else body = this.responses.handle(message);
    }
    if (hasBody) this.#body = body ?? discardBody;
  }

  #terminate(reason: unknown, local: boolean): void {
    if (this.#state !== "open") return;
    this.#state = "closed";
    this.#frameBuffers.close();
    this.#room?.close();
    this.#decoder.dispose();
    this.#deadlines.stop();
    const error = closedError(this.peer, reason, local);
    this.#closedError = error;
    if (local && reason === undefined) {
      this.writer.flushAndClose(error);
      this.socket.close();
    } else {
      this.writer.abort(error);
      if (local) this.socket.close(reason);
    }
    const body = this.#body;
    this.#body = undefined;
    body?.fail(error);
    this.responses.failAll(error);
    this.#readPausers.clear();
    this.#requests?.terminate(reason);
  }
}

function closedError(peer: string, reason: unknown, local: boolean): ConnectionClosedError {
  if (reason === undefined) {
    return new ConnectionClosedError(
      local
        ? `Connection to ${peer} was closed by this side`
        : `Connection to ${peer} was closed by the peer`,
    );
  }
  return new ConnectionClosedError(
    `Connection to ${peer} ${local ? "was closed" : "failed"}: ${describeError(reason)}`,
    { cause: reason },
  );
}
