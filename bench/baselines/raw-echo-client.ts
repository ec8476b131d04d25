/**
 * Client of the raw length-prefixed echo baseline: pipelined (keep N requests outstanding, send a
 * new one as each reply arrives) or ping-pong (one at a time, timing each). Replies parsed from one
 * read are answered under one `cork()`, mirroring the server.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type net from "node:net";
import type { ServerAddress } from "../harness/server-directory.ts";
import { encodeLengthPrefixed, LengthPrefixedReader } from "./length-prefixed-frames.ts";
import { connectRawTcp } from "./raw-tcp-connect.ts";

export class RawEchoClient {
  readonly #socket: net.Socket;
  #onReply: ((frame: Buffer) => void) | undefined;
  #onClose: ((error: Error) => void) | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    const reader = new LengthPrefixedReader((frame) => this.#onReply?.(frame));
    socket.on("data", (chunk: Buffer) => {
      socket.cork();
      reader.push(chunk);
      socket.uncork();
    });
    socket.on("close", () => this.#onClose?.(new Error("raw echo connection closed")));
    socket.on("error", () => {});
  }

  static async connect(address: ServerAddress): Promise<RawEchoClient> {
    return new RawEchoClient(await connectRawTcp(address));
  }

  /** Sends `total` echoes of `payload` keeping `inFlight` outstanding; resolves when all replied. */
  pipelined(total: number, inFlight: number, payload: Uint8Array): Promise<void> {
    const frame = encodeLengthPrefixed(payload);
    return new Promise<void>((resolve, reject) => {
      let sent = 0;
      let received = 0;
      this.#onClose = reject;
      this.#onReply = (reply) => {
        if (reply.byteLength !== frame.byteLength) {
          reject(
            new Error(`raw echo: reply of ${reply.byteLength} bytes, expected ${frame.byteLength}`),
          );
        }
        received++;
        if (sent < total) {
          sent++;
          this.#socket.write(frame);
        } else if (received === total) {
          this.#onReply = undefined;
          this.#onClose = undefined;
          resolve();
        }
      };
      this.#socket.cork();
      while (sent < Math.min(inFlight, total)) {
        sent++;
        this.#socket.write(frame);
      }
      this.#socket.uncork();
    });
  }

  /** Sends `count` echoes one at a time; resolves with each round trip in microseconds. */
  pingPong(count: number, payload: Uint8Array): Promise<Float64Array> {
    const frame = encodeLengthPrefixed(payload);
    const latencies = new Float64Array(count);
    return new Promise<Float64Array>((resolve, reject) => {
      let index = 0;
      let startedAt = 0;
      this.#onClose = reject;
      const send = () => {
        startedAt = performance.now();
        this.#socket.write(frame);
      };
      this.#onReply = () => {
        latencies[index++] = (performance.now() - startedAt) * 1000;
        if (index < count) {
          send();
        } else {
          this.#onReply = undefined;
          this.#onClose = undefined;
          resolve(latencies);
        }
      };
      send();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.destroyed) return resolve();
      this.#socket.once("close", () => resolve());
      this.#socket.end();
    });
  }
}
