/**
 * Baseline server for RPCs: echoes every length-prefixed frame back unchanged, in order. The
 * frames parsed from one read are written under one `cork()`, so pipelined requests go back in
 * as few syscalls as Node allows — a deliberately strong baseline.
 *
 * @module
 */

import net from "node:net";
import { LengthPrefixedReader } from "../baselines/length-prefixed-frames.ts";
import { benchHost, type RunningServer } from "./running-server.ts";

export async function startRawEchoServer(): Promise<RunningServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const reader = new LengthPrefixedReader((frame) => socket.write(frame));
    socket.on("data", (chunk: Buffer) => {
      socket.cork();
      reader.push(chunk);
      socket.uncork();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, benchHost, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
