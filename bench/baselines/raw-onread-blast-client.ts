/**
 * The stretch baseline of bulk transfer: the raw blast (`raw-blast-client.ts`) read with Node's
 * `onread` into one reused 1 MiB buffer, so no read allocates a `Buffer` and nothing is ever
 * garbage: the most a Node TCP reader can take off a loopback socket. Only counts bytes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import type { ServerAddress } from "../harness/server-directory.ts";
import { BlastTransfer } from "./blast-transfer.ts";

const readBufferBytes = 1024 * 1024;

export class RawOnreadBlastClient {
  readonly #socket: net.Socket;
  readonly #transfer: BlastTransfer;

  private constructor(socket: net.Socket, transfer: BlastTransfer) {
    this.#socket = socket;
    this.#transfer = transfer;
    socket.on("close", () => transfer.fail(new Error("raw onread blast closed mid-transfer")));
    socket.on("error", () => {});
  }

  static connect(address: ServerAddress): Promise<RawOnreadBlastClient> {
    const transfer = new BlastTransfer("raw onread blast");
    const buffer = Buffer.allocUnsafeSlow(readBufferBytes);
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: address.host,
        port: address.port,
        noDelay: true,
        onread: {
          buffer,
          callback: (bytes: number) => {
            transfer.received(bytes);
            return true;
          },
        },
      });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawOnreadBlastClient(socket, transfer));
      });
    });
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
