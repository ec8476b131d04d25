/**
 * Client of the raw WebSocket blast baseline (`ws` package): sends one binary request for `count`
 * messages of `size` bytes and counts bytes until all have arrived. Messages arrive as Node
 * Buffers (`nodebuffer`, `ws`'s cheapest form); nothing is copied or parsed.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import WebSocket from "ws";
import type { ServerAddress } from "../harness/server-directory.ts";
import { openBenchWebSocket } from "./bench-websocket.ts";
import { BlastTransfer } from "./blast-transfer.ts";

export class RawWebSocketBlastClient {
  readonly #ws: WebSocket;
  readonly #transfer = new BlastTransfer("raw ws blast");

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data: Buffer) => this.#transfer.received(data.byteLength));
    ws.on(
      "close",
      (code: number, reason: Buffer) =>
        this.#transfer.fail(
          new Error(`raw ws blast connection closed mid-transfer: ${code} ${reason}`),
        ),
    );
    ws.on("error", () => {});
  }

  static async connect(address: ServerAddress): Promise<RawWebSocketBlastClient> {
    return new RawWebSocketBlastClient(await openBenchWebSocket(address));
  }

  /** Receives `count` messages of `size` bytes; resolves with the bytes received. */
  receive(count: number, size: number): Promise<number> {
    return this.#transfer.start(count, size, (request) => this.#ws.send(request, { binary: true }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ws.readyState === WebSocket.CLOSED) return resolve();
      this.#ws.once("close", () => resolve());
      this.#ws.close(1000);
    });
  }
}
