/**
 * The server side of the interop convention (`docs/interop.md`): what a Ferry interop server
 * answers to RPCs, one-way messages, uploads, chunk fetches and stream requests. Runtime-neutral:
 * the Node/Deno entry point (`server.ts`), the in-memory tests and a browser page all serve it.
 *
 * | RPC body | reply |
 * |---|---|
 * | `open:<n>:<size>` | registers n chunks of `size` bytes; replies the stream id (int64 BE) |
 * | `fail:<msg>` | RpcFailure with `msg` |
 * | `oneway-log` | the one-way messages this connection sent so far, joined with `\n` |
 * | `oneway-clear` | forgets them; replies `ok` |
 * | anything else | echoed byte for byte |
 *
 * Stream ids: `gen:<size>` (byte i = i & 0xff), `<streamId>_<chunkIndex>`; anything else fails
 * with `Stream '<id>' was not found.`. Uploads reply `upload:<meta>:<byteCount>:<crc32 hex>`.
 *
 * The one-way log is kept per connection (so concurrent interop clients do not see each other's
 * messages) and dropped when the connection closes.
 *
 * @module
 */

import { crc32 } from "../src/checksum/crc32.ts";
import { chainInterceptors } from "../src/client/chain-interceptors.ts";
import { ferryResponder } from "../src/extensions/ferry-responder.ts";
import type { Peer } from "../src/responder/peer.ts";
import { InvalidArgumentError, LimitError } from "../src/errors.ts";
import { defaultLimits } from "../src/limits.ts";
import { OneForOneStreamManager } from "../src/responder/one-for-one-stream-manager.ts";
import type { RpcHandler } from "../src/responder/rpc-handler.ts";
import type { StreamBody } from "../src/responder/stream-manager.ts";
import { TransportServer, type TransportServerOptions } from "../src/server/transport-server.ts";
import { genStreamBody, openChunkContent } from "./patterns.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const OPEN = encoder.encode("open:");
const FAIL = encoder.encode("fail:");
const ONEWAY_LOG = encoder.encode("oneway-log");
const ONEWAY_CLEAR = encoder.encode("oneway-clear");
const OK = encoder.encode("ok");

/** ChunkFetchSuccess header: frame length 8, type 1, stream id 8, chunk index 4. */
const CHUNK_FRAME_OVERHEAD = 21;
const MAX_CHUNK_COUNT = 0x7fff_ffff;
const DECIMAL = /^(0|[1-9]\d{0,15})$/;
const GEN_ID = /^gen:(.*)$/s;

export interface InteropHandlerOptions {
  /** Largest chunk `open:` may register (default: what fits in a `maxFrameLength` frame). */
  readonly maxChunkSize?: number;
  /** One-way messages kept per connection; more are counted and make `oneway-log` fail. */
  readonly maxOneWayLog?: number;
  /**
   * Puts an authentication gate in front of the finished options (e.g. Spark SASL:
   * `(o) => sasl.serverOptions(o)`).
   */
  readonly secure?: (options: TransportServerOptions) => TransportServerOptions;
}

interface OneWayLog {
  readonly messages: string[];
  dropped: number;
}

/** Answers the interop RPCs, one-way messages and uploads; registers `open:` streams. */
export class InteropRpcHandler implements RpcHandler {
  readonly #streams: OneForOneStreamManager;
  readonly #maxChunkSize: number;
  readonly #maxOneWayLog: number;
  readonly #logs = new Map<Peer, OneWayLog>();

  constructor(streams: OneForOneStreamManager, options: InteropHandlerOptions = {}) {
    this.#streams = streams;
    this.#maxChunkSize = options.maxChunkSize ??
      defaultLimits.maxFrameLength - CHUNK_FRAME_OVERHEAD;
    this.#maxOneWayLog = options.maxOneWayLog ?? 10_000;
  }

  receive(client: Peer, message: Uint8Array): Uint8Array {
    if (startsWith(message, OPEN)) return this.#open(client, message);
    if (startsWith(message, FAIL)) throw new Error(decoder.decode(message.subarray(FAIL.length)));
    if (equals(message, ONEWAY_LOG)) return this.#oneWayLog(client);
    if (equals(message, ONEWAY_CLEAR)) {
      this.#logs.delete(client);
      return OK;
    }
    // The body is ours (a view of received bytes nobody else uses): send it back as is.
    return message;
  }

  receiveOneWay(client: Peer, message: Uint8Array): void {
    let log = this.#logs.get(client);
    if (log === undefined) this.#logs.set(client, log = { messages: [], dropped: 0 });
    if (log.messages.length >= this.#maxOneWayLog) log.dropped++;
    else log.messages.push(decoder.decode(message));
  }

  async receiveStream(
    _client: Peer,
    meta: Uint8Array,
    body: ReadableStream<Uint8Array>,
  ): Promise<Uint8Array> {
    let byteCount = 0;
    let crc = 0;
    const reader = body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      byteCount += read.value.byteLength;
      crc = crc32(read.value, crc);
    }
    return encoder.encode(`upload:${decoder.decode(meta)}:${byteCount}:${crc.toString(16)}`);
  }

  channelInactive(client: Peer): void {
    this.#logs.delete(client);
  }

  #open(client: Peer, message: Uint8Array): Uint8Array {
    const request = decoder.decode(message);
    const [, count, size, ...rest] = request.split(":");
    if (
      count === undefined || size === undefined || rest.length > 0 || !DECIMAL.test(count) ||
      !DECIMAL.test(size)
    ) {
      throw new InvalidArgumentError(
        `Cannot open a stream for '${clip(request)}': expected open:<chunkCount>:<chunkSize> ` +
          `with two non-negative decimal integers`,
      );
    }
    const chunkCount = Number(count);
    const chunkSize = Number(size);
    if (chunkCount > MAX_CHUNK_COUNT) {
      throw new LimitError(
        `Cannot open '${request}': ${chunkCount} chunks is above the int32 chunk index range`,
      );
    }
    if (chunkSize > this.#maxChunkSize) {
      throw new LimitError(
        `Cannot open '${request}': chunks of ${chunkSize} bytes exceed this server's largest ` +
          `chunk, ${this.#maxChunkSize} bytes`,
      );
    }
    const streamId = this.#streams.registerStream(client, openChunks(chunkCount, chunkSize));
    const reply = new Uint8Array(8);
    new DataView(reply.buffer).setBigInt64(0, BigInt(streamId));
    return reply;
  }

  #oneWayLog(client: Peer): Uint8Array {
    const log = this.#logs.get(client);
    if (log === undefined) return new Uint8Array(0);
    if (log.dropped > 0) {
      throw new LimitError(
        `The one-way log of this connection overflowed: ${log.dropped} messages beyond the ` +
          `${this.#maxOneWayLog} kept were dropped; send oneway-clear`,
      );
    }
    return encoder.encode(log.messages.join("\n"));
  }
}

/** Serves `gen:<size>` stream ids; other non-chunk ids are not found. */
export function openGenStream(streamId: string): StreamBody | undefined {
  const match = GEN_ID.exec(streamId);
  if (match === null) return undefined;
  const size = match[1]!;
  if (!DECIMAL.test(size)) {
    throw new InvalidArgumentError(
      `Stream '${clip(streamId)}' was not found. (gen:<size> needs a non-negative decimal ` +
        `integer size, got '${clip(size)}')`,
    );
  }
  const byteLength = Number(size);
  return { byteLength, body: genStreamBody(byteLength) };
}

/** The stream manager of an interop server: `open:` streams plus `gen:<size>`. */
export function createInteropStreamManager(): OneForOneStreamManager {
  return new OneForOneStreamManager({ openNamedStream: openGenStream });
}

/** A `TransportServer` serving the interop convention; listen on it with any `Listen`. */
export function createInteropServer(
  options: Omit<TransportServerOptions, "rpcHandler" | "streamManager"> & InteropHandlerOptions =
    {},
): TransportServer {
  const { maxChunkSize, maxOneWayLog, secure, ...serverOptions } = options;
  const streamManager = createInteropStreamManager();
  const rpcHandler = new InteropRpcHandler(streamManager, {
    maxChunkSize: maxChunkSize ??
      (serverOptions.maxFrameLength ?? defaultLimits.maxFrameLength) - CHUNK_FRAME_OVERHEAD,
    ...(maxOneWayLog === undefined ? {} : { maxOneWayLog }),
  });
  const served = { ...serverOptions, rpcHandler, streamManager };
  // A Ferry server answers Ferry's extensions (ping, cancel, trace context); a SASL gate installs
  // them itself, behind the gate.
  return new TransportServer(
    secure === undefined
      ? { ...served, interceptor: chainInterceptors(ferryResponder, served.interceptor) }
      : secure(served),
  );
}

/** Chunks of an `open:` stream, produced one at a time as they are fetched. */
function* openChunks(chunkCount: number, chunkSize: number): Generator<Uint8Array> {
  for (let k = 0; k < chunkCount; k++) yield openChunkContent(k, chunkSize);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function equals(bytes: Uint8Array, expected: Uint8Array): boolean {
  return bytes.length === expected.length && startsWith(bytes, expected);
}

/** Keeps peer-provided text short in error messages. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
