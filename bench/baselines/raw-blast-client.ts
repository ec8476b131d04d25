/**
 * Client of the raw blast baseline: asks the server for `count` buffers of `size` bytes and counts
 * bytes until all have arrived. Only counts — nothing is copied or parsed.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type net from "node:net";
import type { ServerAddress } from "../harness/server-directory.ts";
import { BlastTransfer } from "./blast-transfer.ts";
import { connectRawTcp } from "./raw-tcp-connect.ts";

export class RawBlastClient {
  readonly #socket: net.Socket;
  readonly #transfer = new BlastTransfer("raw blast");

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#transfer.received(chunk.byteLength));
    socket.on(
      "close",
      () => this.#transfer.fail(new Error("raw blast connection closed mid-transfer")),
    );
    socket.on("error", () => {});
  }

  static async connect(address: ServerAddress): Promise<RawBlastClient> {
    return new RawBlastClient(await connectRawTcp(address));
  }

  /** Receives `count × size` bytes; resolves with the bytes received. */
  receive(count: number, size: number): Promise<number> {
    return this.#transfer.start(count, size, (request) => this.#socket.write(request));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.destroyed) return resolve();
      this.#socket.once("close", () => resolve());
      this.#socket.end();
    });
  }
}
