/**
 * Client of the raw blast baseline: asks the server for `count` buffers of `size` bytes and counts
 * bytes until all have arrived. Only counts — nothing is copied or parsed.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type net from "node:net";
import type { ServerAddress } from "../harness/server-directory.ts";
import { blastRequestBytes } from "../servers/raw-blast-server.ts";
import { connectRawTcp } from "./raw-tcp-connect.ts";

export class RawBlastClient {
  readonly #socket: net.Socket;
  #expected = 0;
  #received = 0;
  #done: ((error?: Error) => void) | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#received += chunk.byteLength;
      if (this.#received >= this.#expected) this.#settle();
    });
    socket.on("close", () => this.#settle(new Error("raw blast connection closed mid-transfer")));
    socket.on("error", () => {});
  }

  static async connect(address: ServerAddress): Promise<RawBlastClient> {
    return new RawBlastClient(await connectRawTcp(address));
  }

  /** Receives `count × size` bytes; resolves with the bytes received. */
  receive(count: number, size: number): Promise<number> {
    if (this.#done !== undefined) throw new Error("raw blast: a transfer is already running");
    this.#expected = count * size;
    this.#received = 0;
    return new Promise<number>((resolve, reject) => {
      this.#done = (error) => (error ? reject(error) : resolve(this.#received));
      const request = Buffer.allocUnsafe(blastRequestBytes);
      request.writeUInt32BE(count, 0);
      request.writeUInt32BE(size, 4);
      this.#socket.write(request);
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
      if (this.#socket.destroyed) return resolve();
      this.#socket.once("close", () => resolve());
      this.#socket.end();
    });
  }
}
