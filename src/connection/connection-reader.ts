/**
 * The inbound half of a {@linkcode Connection}: the socket's bytes go through the frame decoder,
 * each message to where it belongs (the interceptor, the request side, the response handler), each
 * raw stream/upload body to its reader, and reading pauses while anyone asks it to (a stream
 * consumer that is not reading, the wait for inbound frame memory).
 *
 * Per-connection state that an idle connection never needs is made on first use: the buffers large
 * frames are assembled in (a frame spanning received chunks), the set of read pausers, the queue
 * of chunks delivered re-entrantly. A server holding thousands of idle connections pays for none.
 *
 * @module
 */

import { FrameDecoder, type FrameHandler, type FrameMemory } from "../protocol/decoder.ts";
import { type Int64, isRequest, type Message, MessageType } from "../protocol/messages.ts";
import type { OversizedFrame } from "../protocol/oversized-frame.ts";
import type { Connection } from "./connection.ts";
import type { ConnectionOptions } from "./connection-options.ts";
import { FrameBufferPool } from "./frame-buffer-pool.ts";
import type { InboundFrameBudget } from "./inbound-frame-budget.ts";
import { discardBody, type InboundBody } from "./inbound-body.ts";
import {
  InboundFrameRoom,
  type InboundFrameRoomHost,
  refuseOversizedRequest,
} from "./inbound-limits.ts";
import type { RequestSide, RequestSideMaker } from "./request-side.ts";

export class ConnectionReader implements FrameHandler, FrameMemory, InboundFrameRoomHost {
  bytesReceived = 0;
  messagesReceived = 0;
  oversizedFrames = 0;
  readonly #connection: Connection;
  readonly #decoder: FrameDecoder;
  /** Waits for inbound frame memory; made by the first charge. */
  #room: InboundFrameRoom | undefined;
  /** Made for the first frame that spans received chunks. */
  #frameBuffers: FrameBufferPool | undefined;
  /** What serves the peer's requests, or what makes it for the first one (see `start`). */
  #requests: RequestSide | RequestSideMaker | undefined;
  /** Where the raw bytes after the current StreamResponse / UploadStream go. */
  #body: InboundBody | undefined;
  /** Who paused reading; made by the first pause. */
  #pausers: Set<object> | undefined;
  #decoding = false;
  /** Chunks that arrived while the decoder was busy (re-entrant delivery). */
  #deferred: Uint8Array[] | undefined;

  constructor(connection: Connection, options: ConnectionOptions) {
    this.#connection = connection;
    const budget = options.inboundFrameBudget;
    this.#decoder = new FrameDecoder(this, {
      maxFrameLength: options.maxFrameLength,
      ...(options.maxReplyFrameLength === undefined
        ? {}
        : { maxReplyFrameLength: options.maxReplyFrameLength }),
      ...(options.maxRequestBodyBytes === undefined ? {} : {
        maxRequestBodyBytes: options.maxRequestBodyBytes,
        requestLimitName: options.requestLimitName ?? "maxRequestBytes",
      }),
      ...(budget === undefined ? {} : { memory: this }),
      allocator: this,
    });
  }

  /** Inside a frame or an announced body (more bytes of it are owed). */
  get midFrame(): boolean {
    return this.#decoder.midFrame;
  }

  /** Bytes of free frame buffers kept for later large frames. */
  get retainedFrameBytes(): number {
    return this.#frameBuffers?.retainedBytes ?? 0;
  }

  /** Reading is paused by anyone. */
  get paused(): boolean {
    return this.#pausers !== undefined && this.#pausers.size > 0;
  }

  /** Reading is paused by a local consumer (waiting for inbound frame memory is not one). */
  get pausedByConsumer(): boolean {
    const pausers = this.#pausers?.size ?? 0;
    return pausers > (this.#room?.waiting === true ? 1 : 0);
  }

  /** Requests of the peer being served (replies not yet produced). */
  get serving(): number {
    const requests = this.#requests;
    return typeof requests === "object" ? requests.serving : 0;
  }

  /** A stream or upload body is arriving. */
  get receivingBody(): boolean {
    return this.#body !== undefined;
  }

  /** Inbound requests go to `requests` from now on (a maker: to what it makes, when first needed). */
  start(requests: RequestSide | RequestSideMaker): void {
    this.#requests = requests;
  }

  /** Memory the socket may read the next bytes into (a large frame's tail), if any. */
  readBuffer(pastEnd?: boolean): Uint8Array | undefined {
    return this.#connection.isOpen && !this.#decoding
      ? this.#decoder.readBuffer(pastEnd)
      : undefined;
  }

  /** The decoder's `allocator`: the buffer of a frame that spans chunks. */
  allocate(size: number): Uint8Array {
    return this.#buffers().allocate(size);
  }

  /** The decoder's `allocator`: room after a frame's buffer (see `FrameBufferPool.spareAfter`). */
  spareAfter(frame: Uint8Array): number {
    return this.#frameBuffers?.spareAfter(frame) ?? 0;
  }

  /** See `Connection.releaseLentBody`. */
  releaseLentBody(body: Uint8Array): void {
    this.#frameBuffers?.release(body);
  }

  data(chunk: Uint8Array): void {
    if (!this.#connection.isOpen) return;
    this.bytesReceived += chunk.byteLength;
    if (this.#decoding) {
      // An adapter delivered data from inside a dispatch (e.g. synchronously on `resume()`): the
      // decoder must not be re-entered, so the chunk waits for the current push to finish.
      (this.#deferred ??= []).push(chunk);
      return;
    }
    this.#decode(chunk);
  }

  pause(owner: object): void {
    if (!this.#connection.isOpen) return;
    const pausers = this.#pausers ??= new Set();
    if (pausers.has(owner)) return;
    pausers.add(owner);
    if (pausers.size === 1) this.#connection.socket.pause();
  }

  resume(owner: object): void {
    const pausers = this.#pausers;
    if (pausers === undefined || !pausers.delete(owner)) return;
    if (pausers.size === 0 && this.#connection.isOpen) this.#connection.socket.resume();
  }

  /** The connection closed: nothing more is decoded; frame memory goes back. */
  stop(): void {
    this.#frameBuffers?.close();
    this.#room?.close();
    this.#decoder.dispose();
  }

  /** The connection closed with `error`: the body still arriving fails with it. */
  failBody(error: unknown): void {
    const body = this.#body;
    this.#body = undefined;
    body?.fail(error);
  }

  /** Last step of closing: no pauses remain; the request side learns why (`reason`). */
  terminate(reason: unknown): void {
    this.#pausers?.clear();
    if (this.#requests !== undefined) this.#requestSide().terminate(reason);
  }

  /** Charged for frames spanning received chunks (undefined: nothing is charged). */
  get #budget(): InboundFrameBudget | undefined {
    return this.#connection.options.inboundFrameBudget;
  }

  // FrameMemory (the decoder's), through the room made for the first charge
  get limit(): number {
    return this.#budget!.limit;
  }
  reserve(size: number): boolean {
    if (!this.#connection.isOpen) return true; // nothing will be decoded any more
    return (this.#room ??= new InboundFrameRoom(this.#budget!, this)).reserve(size);
  }
  release(size: number): void {
    this.#budget!.release(size);
  }

  // InboundFrameRoomHost
  isOpen(): boolean {
    return this.#connection.isOpen;
  }
  granted(): void {
    this.#decode(undefined);
  }

  // FrameHandler
  message(message: Message): void {
    this.#dispatch(message);
  }
  rpcResponse(requestId: Int64, body: Uint8Array): void {
    const connection = this.#connection;
    // Without an interceptor to show it to, an RpcResponse needs no message object.
    if (
      connection.interceptor !== undefined || connection.tap !== undefined || !connection.isOpen
    ) {
      this.#dispatch({ type: MessageType.RpcResponse, requestId, body });
      return;
    }
    this.messagesReceived++;
    connection.responses.rpcResponse(requestId, body);
  }
  rpcRequest(requestId: Int64, body: Uint8Array): void {
    const connection = this.#connection;
    // As for rpcResponse: nothing to show a message object to, and a side that takes the fields
    // (made only now: an interceptor may take the request, and then none is needed).
    if (
      connection.interceptor !== undefined || connection.tap !== undefined ||
      !connection.isOpen || this.#requests === undefined
    ) {
      this.#dispatch({ type: MessageType.RpcRequest, requestId, body });
      return;
    }
    const requests = this.#requestSide();
    if (requests.rpcRequest === undefined) {
      this.#dispatch({ type: MessageType.RpcRequest, requestId, body });
      return;
    }
    this.messagesReceived++;
    requests.rpcRequest(requestId, body);
  }
  body(chunk: Uint8Array): void {
    this.#body?.data(chunk);
  }
  bodyEnd(): void {
    const body = this.#body;
    this.#body = undefined;
    body?.end();
  }
  /** A frame over its limit was skipped: it fails alone, the connection goes on. */
  oversized(frame: OversizedFrame): void {
    this.messagesReceived++;
    this.oversizedFrames++;
    const connection = this.#connection;
    if (!connection.isOpen) return;
    switch (frame.type) {
      case MessageType.RpcRequest:
      case MessageType.UploadStream:
        connection.send(refuseOversizedRequest(frame));
        return;
      case MessageType.OneWayMessage:
        return; // no reply exists; counted in oversizedFrames
      default:
        connection.responses.oversized(frame);
    }
  }

  #requestSide(): RequestSide {
    const requests = this.#requests!;
    if (typeof requests !== "function") return requests;
    return this.#requests = requests(this.#connection.interceptorOwner);
  }

  #buffers(): FrameBufferPool {
    if (this.#frameBuffers !== undefined) return this.#frameBuffers;
    // Large frames are filled by received bytes before anything reads them: no zero-filling.
    const socket = this.#connection.socket;
    this.#frameBuffers = new FrameBufferPool(
      socket.allocateUninitialized === undefined
        ? {}
        : { allocateFresh: (size) => socket.allocateUninitialized!(size) },
    );
    return this.#frameBuffers;
  }

  /** Decodes `chunk`, or (undefined) the bytes held while the decoder waited for memory. */
  #decode(chunk: Uint8Array | undefined): void {
    const connection = this.#connection;
    if (!connection.isOpen || this.#decoding) return;
    const decoder = this.#decoder;
    this.#decoding = true;
    try {
      if (chunk === undefined) decoder.roomGranted();
      else decoder.push(chunk);
      while (this.#deferred !== undefined && connection.isOpen) {
        const deferred = this.#deferred;
        this.#deferred = undefined;
        for (const next of deferred) decoder.push(next);
      }
      // Observed: a frame left unfinished began in these bytes (its reply's first byte).
      if (
        connection.tap !== undefined && decoder.midFrame && decoder.state !== "stream-body"
      ) connection.tap.frameStarted?.();
    } catch (error) {
      connection.close(error);
    } finally {
      this.#decoding = false;
      this.#deferred = undefined;
    }
    // Inside a frame or an announced body: its bytes must keep coming (one check per chunk).
    if (connection.isOpen && decoder.midFrame) connection.midFrame();
  }

  #dispatch(message: Message): void {
    this.messagesReceived++;
    const connection = this.#connection;
    connection.tap?.received(message);
    const hasBody = message.type === MessageType.StreamResponse ||
      message.type === MessageType.UploadStream;
    let body: InboundBody | undefined;
    if (connection.isOpen) {
      const interceptor = connection.interceptor;
      if (interceptor !== undefined && interceptor(message, connection.interceptorOwner as never)) {
        body = undefined;
      } else if (isRequest(message)) body = this.#requestSide().handle(message);
      else body = connection.responses.handle(message);
    }
    if (hasBody) this.#body = body ?? discardBody;
  }
}
