/**
 * A `node:net` bench server (the raw TCP baselines): `noDelay`, bound on `benchHost`, an ephemeral
 * port; closing it drops every open connection.
 *
 * @module
 */

import net from "node:net";
import { benchHost, type RunningServer } from "./running-server.ts";

/** Listens with `onSocket` serving each connection; a socket error destroys that socket. */
export async function startNetBenchServer(
  onSocket: (socket: net.Socket) => void,
): Promise<RunningServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    onSocket(socket);
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
