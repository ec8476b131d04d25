/**
 * Baseline server for RPCs: `@grpc/grpc-js` unary echo over plaintext HTTP/2 on loopback.
 *
 * @module
 */

import grpc from "@grpc/grpc-js";
import { echoServiceDefinition } from "../baselines/grpc-echo-service.ts";
import { benchHost, type RunningServer } from "./running-server.ts";

export async function startGrpcEchoServer(): Promise<RunningServer> {
  const server = new grpc.Server();
  server.addService(echoServiceDefinition, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback(null, call.request);
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${benchHost}:0`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Open calls must not hold the bench up: force it shortly after.
        setTimeout(() => server.forceShutdown(), 1_000).unref();
      }),
  };
}
