/**
 * Client of the raw WebSocket blast baseline (`ws` package): sends one binary request for `count`
 * messages of `size` bytes and counts bytes until all have arrived. Messages arrive as Node
 * Buffers (`nodebuffer`, `ws`'s cheapest form); nothing is copied or parsed.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import WebSocket from "ws";
import type { ServerAddress } from "../harness/server-directory.ts";
import { blastRequestBytes } from "../servers/raw-blast-protocol.ts";

export class RawWebSocketBlastClient {
  readonly #ws: WebSocket;
  #expected = 0;
  #received = 0;
  #done: ((error?: Error) => void) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data: Buffer) => {
      this.#received += data.byteLength;
      if (this.#received >= this.#expected) this.#settle();
    });
    ws.on(
      "close",
      (code: number, reason: Buffer) =>
        this.#settle(new Error(`raw ws blast connection closed mid-transfer: ${code} ${reason}`)),
    );
    ws.on("error", () => {});
  }

  static connect(address: ServerAddress): Promise<RawWebSocketBlastClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${address.host}:${address.port}/`, {
        perMessageDeflate: false,
        maxPayload: 64 * 1024 * 1024,
      });
      ws.binaryType = "nodebuffer";
      ws.once("error", reject);
      ws.once("open", () => {
        ws.off("error", reject);
        resolve(new RawWebSocketBlastClient(ws));
      });
    });
  }

  /** Receives `count` messages of `size` bytes; resolves with the bytes received. */
  receive(count: number, size: number): Promise<number> {
    if (this.#done !== undefined) throw new Error("raw ws blast: a transfer is already running");
    this.#expected = count * size;
    this.#received = 0;
    return new Promise<number>((resolve, reject) => {
      this.#done = (error) => (error ? reject(error) : resolve(this.#received));
      const request = Buffer.allocUnsafe(blastRequestBytes);
      request.writeUInt32BE(count, 0);
      request.writeUInt32BE(size, 4);
      this.#ws.send(request, { binary: true });
    });
  }

  #settle(error?: Error): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    done(error);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ws.readyState === WebSocket.CLOSED) return resolve();
      this.#ws.once("close", () => resolve());
      this.#ws.close(1000);
    });
  }
}
