/**
 * Client of the grpc-js echo baseline: one channel, `inFlight` unary calls outstanding at once.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import grpc from "@grpc/grpc-js";
import type { ServerAddress } from "../harness/server-directory.ts";
import { type EchoCall, EchoClient } from "./grpc-echo-service.ts";

export class GrpcEchoClient {
  readonly #client: grpc.Client;
  readonly #echo: EchoCall;

  private constructor(client: grpc.Client) {
    this.#client = client;
    this.#echo = (client as unknown as { echo: EchoCall }).echo.bind(client);
  }

  static async connect(address: ServerAddress): Promise<GrpcEchoClient> {
    const client = new EchoClient(
      `${address.host}:${address.port}`,
      grpc.credentials.createInsecure(),
    );
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve()));
    });
    return new GrpcEchoClient(client);
  }

  /** Sends `total` echoes of `payload` keeping `inFlight` outstanding; resolves when all replied. */
  pipelined(total: number, inFlight: number, payload: Uint8Array): Promise<void> {
    const request = Buffer.from(payload);
    return new Promise<void>((resolve, reject) => {
      let sent = 0;
      let received = 0;
      let failed = false;
      const onReply = (error: grpc.ServiceError | null, response?: Buffer) => {
        if (failed) return;
        if (error || response?.byteLength !== request.byteLength) {
          failed = true;
          reject(error ?? new Error(`grpc echo: reply of ${response?.byteLength} bytes`));
          return;
        }
        received++;
        if (sent < total) {
          sent++;
          this.#echo(request, onReply);
        } else if (received === total) {
          resolve();
        }
      };
      while (sent < Math.min(inFlight, total)) {
        sent++;
        this.#echo(request, onReply);
      }
    });
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}
