/**
 * Client of the raw TLS blast (`raw-blast-server.ts`, `raw-tls-blast`): Node's `tls.connect`,
 * asking for `count` buffers of `size` bytes and counting the bytes of its `data` events. It does
 * not verify the server's certificate: verification happens once, in the handshake, which is
 * outside the timed transfer, and skipping it keeps Ferry's code out of this process (Ferry's
 * clients fetch the certificate with a Ferry RPC).
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import tls from "node:tls";
import type { ServerAddress } from "../harness/server-directory.ts";
import { BlastTransfer } from "./blast-transfer.ts";

export class RawTlsBlastClient {
  readonly #socket: tls.TLSSocket;
  readonly #transfer = new BlastTransfer("raw tls blast");

  private constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#transfer.received(chunk.byteLength));
    socket.on("close", () => this.#transfer.fail(new Error("raw tls blast closed mid-transfer")));
    socket.on("error", () => {});
  }

  static connect(address: ServerAddress): Promise<RawTlsBlastClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: address.host,
        port: address.port,
        rejectUnauthorized: false,
        noDelay: true,
      } as tls.ConnectionOptions);
      socket.once("error", reject);
      socket.once("secureConnect", () => {
        socket.off("error", reject);
        resolve(new RawTlsBlastClient(socket));
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
