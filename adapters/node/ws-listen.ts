/**
 * WebSocket listener for Node on the `ws` package: an HTTP server of our own that upgrades
 * requests (optionally only on `path`, and only where `allowUpgrade` agrees) and hands every
 * WebSocket to `onSocket` as a Ferry `Socket`. Compression is off (Ferry frames are binary and
 * the gateway must bound memory); `maxPayload` caps one message. Reads pause the TCP socket
 * (`ws`'s `pause()`), so backpressure reaches the remote writer.
 *
 * @module
 */

import * as http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { InvalidArgumentError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import type { Listen, SocketListener } from "../../src/socket.ts";
import { checkTcpListenOptions, formatHostPort, type TcpListenOptions } from "../tcp-options.ts";
import { type WebSocketLike, wrapWebSocket } from "../websocket-socket.ts";
import type { UpgradeRequest } from "../websocket-upgrade-request.ts";

export type { UpgradeRequest } from "../websocket-upgrade-request.ts";
import { bindNodeServer } from "./node-endpoint.ts";
import { nodeTcpOptions } from "./tcp.ts";

export interface WebSocketListenOptions extends TcpListenOptions {
  /** Only upgrade requests for this path (default: any path). */
  readonly path?: string;
  /** Largest message accepted, in bytes (default `maxFrameLength`, 64 MiB). */
  readonly maxPayload?: number;
  /** Return false to refuse an upgrade with 403 (e.g. an Origin check). */
  readonly allowUpgrade?: (request: UpgradeRequest) => boolean;
}

/** A `Listen` that accepts WebSocket connections on `host:port` (port 0 picks a free port). */
export function webSocketListen(options: WebSocketListenOptions = {}): Listen {
  const checked = checkTcpListenOptions(options, "webSocketListen");
  const maxPayload = options.maxPayload ?? defaultLimits.maxFrameLength;
  if (!Number.isSafeInteger(maxPayload) || maxPayload < 1) {
    throw new InvalidArgumentError(
      `webSocketListen: maxPayload must be a positive integer, received ${maxPayload}`,
    );
  }
  const path = options.path;
  if (path !== undefined && (typeof path !== "string" || !path.startsWith("/"))) {
    throw new InvalidArgumentError(`webSocketListen: path must start with "/", received ${path}`);
  }
  const allowUpgrade = options.allowUpgrade;

  return async (onSocket) => {
    if (typeof onSocket !== "function") {
      throw new InvalidArgumentError(`webSocketListen: onSocket must be a function`);
    }
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload,
      clientTracking: false,
    });
    const server = http.createServer({
      ...nodeTcpOptions(checked),
      highWaterMark: checked.highWaterMark,
    } as http.ServerOptions, (_request, response) => {
      response.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
      response.end("This endpoint speaks WebSocket only.\n");
    });
    server.on("upgrade", (request: http.IncomingMessage, raw: Duplex, head: Buffer) => {
      raw.on("error", () => {}); // surfaces on the WebSocket once upgraded
      const remoteAddress = formatHostPort(request.socket.remoteAddress, request.socket.remotePort);
      const target = request.url ?? "/";
      if (path !== undefined && target.split("?")[0] !== path) {
        refuse(raw, 404, "Not Found");
        return;
      }
      const origin = request.headers.origin;
      if (
        allowUpgrade &&
        !allowUpgrade({ url: target, origin, headers: request.headers, remoteAddress })
      ) {
        refuse(raw, 403, "Forbidden");
        return;
      }
      wss.handleUpgrade(request, raw, head, (ws) => {
        ws.binaryType = "nodebuffer"; // Buffers are Uint8Array views: no copy per message
        const socket = wrapWebSocket(ws as unknown as WebSocketLike, {
          transport: "ws",
          remoteAddress,
          localAddress: formatHostPort(request.socket.localAddress, request.socket.localPort),
          highWaterMark: checked.highWaterMark,
          maxHeldBytes: defaultLimits.writeHardCap,
          closeTimeoutMs: checked.closeTimeoutMs,
        });
        try {
          onSocket(socket);
        } catch (error) {
          socket.close(error);
        }
      });
    });
    const bound = await bindNodeServer(server, "ws", checked);
    const listener: SocketListener = {
      address: { ...bound.address, url: `${bound.address.url}${path ?? "/"}` },
      close: async () => {
        await bound.close();
        wss.close();
      },
    };
    return listener;
  };
}

function refuse(raw: Duplex, status: number, text: string): void {
  raw.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
