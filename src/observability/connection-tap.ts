/**
 * `ConnectionTap`: sees every message one connection sends and receives, and turns them into
 * request timings for both of the connection's sides (a connection is bidirectional: the requests
 * this side sent are "client" requests, the ones it serves are "server" requests).
 *
 * A request starts when its frame is sent (client) or received (server) and ends with its reply's
 * header: RpcResponse / RpcFailure, ChunkFetchSuccess / ChunkFetchFailure, StreamResponse /
 * StreamFailure, MergedBlockMetaSuccess. It is matched by request id, by stream id and chunk index,
 * or by stream id, exactly as the protocol matches replies. A tap exists only on connections opened
 * while something listens (an OpenTelemetry SDK or a channel subscriber), so without one the
 * connection pays a single `undefined` check per message.
 *
 * Bounded: at most `defaultLimits.maxObservedRequestsPerConnection` requests are remembered per
 * side; beyond, the oldest is ended as `ferry.untracked` (a peer that never answers, or requests
 * this side abandoned whose late reply never comes, cannot grow the map).
 *
 * @module
 */

import { defaultLimits } from "../limits.ts";
import { type Int64, type Message, MessageType } from "../protocol/messages.ts";
import { type ConnectionEvent, ferryChannels, type RequestEvent } from "./event-sink.ts";
import type { FerryInstruments } from "./instruments.ts";
import type { SpanContext, Tracer } from "@opentelemetry/api";
import { type FerrySpan, parseTraceparent, startRequestSpan } from "./tracing.ts";
import {
  decodeChunkTraceContext,
  encodeChunkTraceContext,
  isChunkTraceContext,
} from "./chunk-trace-message.ts";

/** What the connection calls; both run synchronously and never throw into the connection. */
export interface MessageTap {
  sent(message: Message): void;
  received(message: Message): void;
  /** A socket read left the decoder inside a frame: the next message's first bytes are here. */
  frameStarted?(): void;
}

type Key = number | string;

/** A request being timed, and its span while a tracer records. */
type Tracked = RequestEvent & { span?: FerrySpan };

const id = (value: Int64): number => typeof value === "bigint" ? Number(value) : value;

export class ConnectionTap implements MessageTap {
  /** Requests this side sent, waiting for replies. */
  readonly outbound = new Map<Key, Tracked>();
  /** Requests this side serves, not answered yet. */
  readonly inbound = new Map<Key, Tracked>();
  readonly #connection: ConnectionEvent;
  readonly #instruments: FerryInstruments;
  readonly #max: number;
  readonly #tracer: Tracer | undefined;
  /** Trace contexts a Ferry peer sent for chunk fetches it sent us (by chunk key), bounded. */
  readonly #remoteParents = new Map<Key, SpanContext>();
  /**
   * Sends a body to the peer as a OneWayMessage: set by `enableFerryTraceContext` for a peer
   * known to be Ferry, so traced chunk fetches are followed by their trace context.
   */
  correlate: ((body: Uint8Array) => void) | undefined;
  /** When the first bytes of the frame being received arrived (undefined: between frames). */
  #frameStart: number | undefined;

  constructor(
    connection: ConnectionEvent,
    instruments: FerryInstruments,
    max: number = defaultLimits.maxObservedRequestsPerConnection,
    tracer?: Tracer,
  ) {
    this.#connection = connection;
    this.#instruments = instruments;
    this.#max = max;
    this.#tracer = tracer;
  }

  /** Whether spans are made (a tracer was registered when the connection opened). */
  get traced(): boolean {
    return this.#tracer !== undefined;
  }

  sent(message: Message): void {
    this.#see(message, this.outbound, this.inbound, "client");
  }

  received(message: Message): void {
    this.#see(message, this.inbound, this.outbound, "server");
    this.#frameStart = undefined;
  }

  frameStarted(): void {
    this.#frameStart ??= performance.now();
  }

  /** The connection ended: every request still open ends with `errorType`. */
  close(errorType: string): void {
    for (const request of this.outbound.values()) this.#end(request, "client", errorType);
    for (const request of this.inbound.values()) this.#end(request, "server", errorType);
    this.outbound.clear();
    this.inbound.clear();
  }

  /**
   * `message` went in one direction: a request starts in `starts` (as `side`), a reply ends the
   * matching request in `ends` (the requests of the other side).
   */
  #see(
    message: Message,
    starts: Map<Key, Tracked>,
    ends: Map<Key, Tracked>,
    side: "client" | "server",
  ): void {
    const other = side === "client" ? "server" : "client";
    switch (message.type) {
      case MessageType.RpcRequest:
        return this.#start(starts, side, id(message.requestId), "RpcRequest", message);
      case MessageType.UploadStream:
        return this.#start(starts, side, id(message.requestId), "UploadStream", message);
      case MessageType.MergedBlockMetaRequest:
        return this.#start(starts, side, id(message.requestId), "MergedBlockMetaRequest", message);
      case MessageType.ChunkFetchRequest:
        return this.#start(starts, side, chunkKey(message), "ChunkFetchRequest", message);
      case MessageType.StreamRequest:
        return this.#start(starts, side, `s${message.streamId}`, "StreamRequest", message);
      case MessageType.OneWayMessage: {
        if (isChunkTraceContext(message.body)) {
          if (side === "server") this.#remember(message.body);
          return;
        }
        // No reply: it starts and ends at once (counted, duration 0).
        const request = this.#event("OneWayMessage", message);
        this.#publishStart(request, side);
        return this.#end(request, side, undefined);
      }
      case MessageType.RpcResponse:
      case MessageType.MergedBlockMetaSuccess:
        return this.#finish(ends, other, id(message.requestId), undefined);
      case MessageType.RpcFailure:
        return this.#finish(ends, other, id(message.requestId), "RpcFailure");
      case MessageType.ChunkFetchSuccess:
        return this.#finish(ends, other, chunkKey(message), undefined);
      case MessageType.ChunkFetchFailure:
        return this.#finish(ends, other, chunkKey(message), "ChunkFetchFailure");
      case MessageType.StreamResponse:
        return this.#finish(ends, other, `s${message.streamId}`, undefined);
      case MessageType.StreamFailure:
        return this.#finish(ends, other, `s${message.streamId}`, "StreamFailure");
    }
  }

  #event(type: string, message: Message): RequestEvent {
    const fields = message as {
      requestId?: Int64;
      streamId?: Int64 | string;
      chunkIndex?: number;
    };
    // Built field by field (no spread temporaries): this runs for every request while observed.
    const event: {
      -readonly [K in keyof RequestEvent]: RequestEvent[K];
    } = {
      type,
      remoteAddress: this.#connection.remoteAddress,
      transport: this.#connection.transport,
      startTime: performance.now(),
      connection: this.#connection,
    };
    if (fields.requestId !== undefined) event.requestId = id(fields.requestId);
    if (fields.streamId !== undefined) {
      event.streamId = typeof fields.streamId === "string" ? fields.streamId : id(fields.streamId);
    }
    if (fields.chunkIndex !== undefined) event.chunkIndex = fields.chunkIndex;
    return event;
  }

  #start(
    map: Map<Key, Tracked>,
    side: "client" | "server",
    key: Key,
    type: string,
    message: Message,
  ): void {
    const request: Tracked = this.#event(type, message);
    // Client spans start now, in the caller's context; server spans when the reply goes out.
    if (this.#tracer !== undefined && side === "client") {
      const { remoteAddress, transport } = this.#connection;
      request.span = startRequestSpan(this.#tracer, side, type, remoteAddress, transport);
    }
    if (map.size >= this.#max) {
      const [oldestKey, oldest] = map.entries().next().value!;
      map.delete(oldestKey);
      this.#end(oldest, side, "ferry.untracked");
    }
    // A second request with the same key (the same chunk fetched twice at once) replaces the
    // first for timing; the first is still counted when it is replaced.
    const previous = map.get(key);
    if (previous !== undefined) this.#end(previous, side, "ferry.untracked");
    map.set(key, request);
    this.#publishStart(request, side);
    const traceparent = request.span?.traceparent;
    if (
      this.correlate !== undefined && traceparent !== undefined && request.chunkIndex !== undefined
    ) {
      const { streamId, chunkIndex } = message as { streamId: Int64; chunkIndex: number };
      this.correlate(encodeChunkTraceContext(streamId, chunkIndex, traceparent));
    }
  }

  /** A Ferry peer's trace context for a chunk fetch it sent (or is about to send). */
  #remember(body: Uint8Array): void {
    const decoded = decodeChunkTraceContext(body);
    const parent = parseTraceparent(decoded?.traceparent);
    if (decoded === undefined || parent === undefined) return;
    const parents = this.#remoteParents;
    if (parents.size >= this.#max) parents.delete(parents.keys().next().value!);
    parents.set(chunkKey(decoded), parent);
  }

  #publishStart(request: RequestEvent, side: "client" | "server"): void {
    const channel = side === "client" ? ferryChannels.clientRequest : ferryChannels.serverRequest;
    if (channel.hasSubscribers) channel.publish(request);
  }

  #finish(
    map: Map<Key, Tracked>,
    side: "client" | "server",
    key: Key,
    errorType: string | undefined,
  ): void {
    const request = map.get(key);
    if (request === undefined) return;
    map.delete(key);
    // A reply to a request this side sent: its frame began arriving at `#frameStart` (a frame
    // that came in one read began now).
    if (side === "client") request.firstByteTime = this.#frameStart ?? performance.now();
    this.#end(request, side, errorType);
  }

  #end(request: Tracked, side: "client" | "server", errorType: string | undefined): void {
    if (side === "server" && this.#tracer !== undefined) {
      let remoteParent: SpanContext | undefined;
      if (request.chunkIndex !== undefined) {
        const key = `${request.streamId}/${request.chunkIndex}`;
        remoteParent = this.#remoteParents.get(key);
        this.#remoteParents.delete(key);
      }
      const { remoteAddress, transport } = this.#connection;
      startRequestSpan(this.#tracer, side, request.type, remoteAddress, transport, {
        startTime: request.startTime,
        remoteParent,
      }).end(errorType);
    } else {
      request.span?.end(errorType);
    }
    const durationMs = request.type === "OneWayMessage" ? 0 : performance.now() - request.startTime;
    request.durationMs = durationMs;
    if (errorType !== undefined) request.errorType = errorType;
    const instruments = this.#instruments;
    if (instruments.active) {
      const attributes: Record<string, string> = {
        "rpc.system": "ferry",
        "rpc.method": request.type,
        "network.transport": request.transport,
      };
      if (errorType !== undefined) attributes["error.type"] = errorType;
      (side === "client" ? instruments.clientDuration : instruments.serverDuration)
        .record(durationMs, attributes);
      if (errorType !== undefined) {
        instruments.errors.add(1, { "error.type": errorType, "ferry.error.source": side });
      }
    }
    const channel = side === "client" ? ferryChannels.clientResponse : ferryChannels.serverResponse;
    if (channel.hasSubscribers) channel.publish(request);
  }
}

function chunkKey(message: { readonly streamId: Int64; readonly chunkIndex: number }): string {
  return `${id(message.streamId)}/${message.chunkIndex}`;
}
