/**
 * The floor of chunk fetch over WebSocket from Node: Spark's request/response written out by hand
 * on a `ws` WebSocket (`nodebuffer`, `ws`'s cheapest form) against the same Ferry bench server,
 * a fixed number of requests outstanding. No library: a request is 21 hand-encoded bytes,
 * a reply's 21-byte header message is skipped and its body message is counted, never parsed or
 * copied. What it adds to the raw blast is what request/response itself costs (a request written
 * per chunk, a header message read per chunk, the server answering rather than streaming), so
 * `ferry-ws ÷ bare` is the library's share of the gap and `bare ÷ raw-ws` the pattern's.
 *
 * Only for measuring: it trusts the server (sizes are checked, contents are not).
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import WebSocket from "ws";
import { MessageType } from "../../src/protocol/messages.ts";
import type { ServerAddress } from "../harness/server-directory.ts";
import { openBenchWebSocket } from "./bench-websocket.ts";
import { decodeStreamId, encodeOpenStream } from "../servers/ferry-bench-protocol.ts";

/** Frame length, type, stream id, chunk index: a ChunkFetchRequest and a ChunkFetchSuccess header. */
const chunkHeaderBytes = 21;
/** Frame length, type, request id, body length: the fixed fields of an RpcRequest / RpcResponse. */
const rpcHeaderBytes = 21;

export class BareWebSocketChunkFetchClient {
  readonly #ws: WebSocket;
  #onMessage: (data: Buffer) => void = () => {};
  #onClose: (error: Error) => void = () => {};

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data: Buffer) => this.#onMessage(data));
    ws.on("close", (code: number) => {
      this.#onClose(new Error(`bare ws chunk fetch: connection closed with ${code}`));
    });
    ws.on("error", () => {});
  }

  static async connect(address: ServerAddress): Promise<BareWebSocketChunkFetchClient> {
    return new BareWebSocketChunkFetchClient(await openBenchWebSocket(address));
  }

  /**
   * Registers a stream of `count` chunks of `size` bytes and fetches them all, `inFlight` requests
   * outstanding; resolves with the bytes received.
   */
  async fetch(count: number, size: number, inFlight: number): Promise<number> {
    const streamId = decodeStreamId(await this.#rpc(encodeOpenStream(count, size)));
    return new Promise<number>((resolve, reject) => {
      let requested = 0;
      let received = 0;
      let bytes = 0;
      this.#onClose = reject;
      this.#onMessage = (data) => {
        if (data.byteLength === chunkHeaderBytes) return; // the header message before each body
        if (data.byteLength !== size) {
          reject(new Error(`bare ws chunk fetch: a ${data.byteLength}-byte message, not a chunk`));
          return;
        }
        bytes += size;
        if (++received === count) resolve(bytes);
        else if (requested < count) this.#requestChunk(streamId, requested++);
      };
      while (requested < Math.min(count, inFlight)) this.#requestChunk(streamId, requested++);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ws.readyState === WebSocket.CLOSED) return resolve();
      this.#onClose = () => {};
      this.#ws.once("close", () => resolve());
      this.#ws.close(1000);
    });
  }

  #requestChunk(streamId: number | bigint, chunkIndex: number): void {
    const frame = new Uint8Array(chunkHeaderBytes);
    const view = new DataView(frame.buffer);
    view.setBigInt64(0, BigInt(chunkHeaderBytes));
    frame[8] = MessageType.ChunkFetchRequest;
    view.setBigInt64(9, BigInt(streamId));
    view.setInt32(17, chunkIndex);
    this.#ws.send(frame);
  }

  #rpc(body: Uint8Array): Promise<Uint8Array> {
    const frame = new Uint8Array(rpcHeaderBytes + body.byteLength);
    const view = new DataView(frame.buffer);
    view.setBigInt64(0, BigInt(frame.byteLength));
    frame[8] = MessageType.RpcRequest;
    view.setBigInt64(9, 1n);
    view.setInt32(17, body.byteLength);
    frame.set(body, rpcHeaderBytes);
    return new Promise((resolve, reject) => {
      this.#onClose = reject;
      this.#onMessage = (data) => {
        if (data[8] !== MessageType.RpcResponse) {
          reject(
            new Error(`bare ws chunk fetch: openStream answered with message type ${data[8]}`),
          );
          return;
        }
        resolve(
          new Uint8Array(
            data.buffer,
            data.byteOffset + rpcHeaderBytes,
            data.byteLength - rpcHeaderBytes,
          ),
        );
      };
      this.#ws.send(frame);
    });
  }
}
