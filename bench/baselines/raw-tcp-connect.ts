/**
 * Opens a plain `node:net` connection for the raw baselines (Nagle off, like Ferry's adapter).
 *
 * @module
 */

import net from "node:net";
import type { ServerAddress } from "../harness/server-directory.ts";

export function connectRawTcp(address: ServerAddress): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.host, port: address.port, noDelay: true });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}
