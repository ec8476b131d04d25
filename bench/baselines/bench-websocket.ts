/**
 * Opens the `ws` WebSocket the bench's baseline clients use: permessage-deflate off, a 64 MiB
 * payload limit and `nodebuffer` messages (`ws`'s cheapest form). Resolves once open.
 *
 * @module
 */

import WebSocket from "ws";
import type { ServerAddress } from "../harness/server-directory.ts";

export function openBenchWebSocket(address: ServerAddress): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${address.host}:${address.port}/`, {
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
    });
    ws.binaryType = "nodebuffer";
    ws.once("error", reject);
    ws.once("open", () => {
      ws.off("error", reject);
      resolve(ws);
    });
  });
}
