/**
 * WebSocket listener for Node on the `ws` package: an HTTP server of our own that upgrades
 * requests (optionally only on `path`, and only where `allowUpgrade` agrees) and hands every
 * WebSocket to `onSocket` as a Ferry `Socket`, with the upgrade request as `context.upgrade`.
 * Compression is off (Ferry frames are binary and the gateway must bound memory); `maxPayload` caps
 * one message. Reads pause the TCP socket (`ws`'s `pause()`), so backpressure reaches the remote
 * writer.
 *
 * - `onRequest` serves plain HTTP requests (static files, a health check) on the same port: the
 *   `IncomingMessage` becomes a web `Request` (streaming body) and the returned `Response` is
 *   streamed back with backpressure. Without it, such requests get 426.
 * - `pingIntervalMs` sends a WebSocket ping that often; a peer that has not answered the previous
 *   ping by the next one is cut off (a vanished browser tab is noticed within two intervals).
 * - Upgrades are checked in this order: path (404), Origin allowlist and `allowUpgrade` (403),
 *   connection caps (503, counted in `stats`), all before anything is upgraded; upgrade headers
 *   must arrive within `headersTimeoutMs` (slowloris).
 *
 * @module
 */

import * as http from "node:http";
import { type Duplex, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { type WebSocket, WebSocketServer } from "ws";
import { InvalidArgumentError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import type { Listen, SocketListener } from "../../src/socket.ts";
import { handOverAccepted } from "../accepted-socket.ts";
import { formatHostPort } from "../tcp-options.ts";
import {
  checkWebSocketListenOptions,
  type WebSocketListenCommonOptions,
} from "../websocket-listen-options.ts";
import {
  type ConnectionAdmissionStats,
  ConnectionCapError,
} from "../../src/server/connection-admission.ts";
import type { WebSocketLike } from "../websocket-like.ts";
import { wrapWebSocket } from "../websocket-socket.ts";
import type { UpgradeRequest } from "../websocket-upgrade-request.ts";

export type { UpgradeRequest } from "../websocket-upgrade-request.ts";
import { bindNodeServer } from "./node-endpoint.ts";
import { nodeTcpOptions } from "./tcp.ts";

export interface WebSocketListenOptions extends WebSocketListenCommonOptions {
  /** Largest message accepted, in bytes (default `maxFrameLength`, 64 MiB). */
  readonly maxPayload?: number;
  /** Ping every WebSocket this often; no pong by the next ping cuts it off (0 = never, default). */
  readonly pingIntervalMs?: number;
  /**
   * Deadline for a request's (or upgrade's) headers: a client dripping them (slowloris) is cut off
   * (Node's `headersTimeout`, checked every `min(headersTimeoutMs / 2, 30 s)`). Default
   * `defaultLimits.upgradeHeadersTimeoutMs` (10 s, the gateway's).
   */
  readonly headersTimeoutMs?: number;
  /** Receives the listener's connection counters (open, refused by each cap) once it is bound. */
  readonly onStats?: (stats: () => ConnectionAdmissionStats) => void;
}

/** A `Listen` that accepts WebSocket connections on `host:port` (port 0 picks a free port). */
export function webSocketListen(options: WebSocketListenOptions = {}): Listen {
  const checked = checkWebSocketListenOptions(options, "webSocketListen");
  const { path, admitUpgrade, onRequest, pingIntervalMs } = checked;
  const maxPayload = options.maxPayload ?? defaultLimits.maxFrameLength;
  if (!Number.isSafeInteger(maxPayload) || maxPayload < 1) {
    throw new InvalidArgumentError(
      `webSocketListen: maxPayload must be a positive integer, received ${maxPayload}`,
    );
  }
  const headersTimeoutMs = options.headersTimeoutMs ?? defaultLimits.upgradeHeadersTimeoutMs;
  if (!Number.isSafeInteger(headersTimeoutMs) || headersTimeoutMs < 1) {
    throw new InvalidArgumentError(
      `webSocketListen: headersTimeoutMs must be a positive integer, received ${headersTimeoutMs}`,
    );
  }
  const timeouts = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: Math.max(300_000, headersTimeoutMs),
    connectionsCheckingInterval: Math.max(1, Math.min(30_000, Math.floor(headersTimeoutMs / 2))),
  };

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
      ...timeouts,
    } as http.ServerOptions, (request, response) => {
      if (onRequest === undefined) {
        response.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
        response.end("This endpoint speaks WebSocket only.\n");
        return;
      }
      serveRequest(onRequest, request, response);
    });
    const pings = pingIntervalMs > 0 ? new PingSweeper(pingIntervalMs) : undefined;
    const admission = checked.newAdmission();
    options.onStats?.(() => admission.stats());
    server.on("upgrade", (request: http.IncomingMessage, raw: Duplex, head: Buffer) => {
      raw.on("error", () => {}); // surfaces on the WebSocket once upgraded
      const remoteAddress = formatHostPort(request.socket.remoteAddress, request.socket.remotePort);
      const target = request.url ?? "/";
      if (path !== undefined && target.split("?")[0] !== path) {
        refuse(raw, 404, "Not Found");
        return;
      }
      const upgrade: UpgradeRequest = {
        url: target,
        origin: request.headers.origin,
        headers: request.headers,
        remoteAddress,
      };
      if (!admitUpgrade(upgrade)) {
        refuse(raw, 403, "Forbidden");
        return;
      }
      // Charged before the upgrade; released when the TCP connection ends, upgraded or not.
      const release = admission.admit(remoteAddress);
      if (release instanceof ConnectionCapError) {
        refuse(raw, 503, "Service Unavailable");
        return;
      }
      raw.once("close", release);
      wss.handleUpgrade(request, raw, head, (ws) => {
        ws.binaryType = "nodebuffer"; // Buffers are Uint8Array views: no copy per message
        pings?.watch(ws);
        const socket = wrapWebSocket(ws as unknown as WebSocketLike, {
          transport: "ws",
          remoteAddress,
          localAddress: formatHostPort(request.socket.localAddress, request.socket.localPort),
          highWaterMark: checked.highWaterMark,
          maxHeldBytes: defaultLimits.writeHardCap,
          closeTimeoutMs: checked.closeTimeoutMs,
          tcp: raw, // the socket `ws` writes to: `writeAll` corks it (one writev per reply)
        });
        handOverAccepted(onSocket, socket, { upgrade });
      });
    });
    const bound = await bindNodeServer(server, "ws", checked);
    const listener: SocketListener = {
      address: { ...bound.address, url: `${bound.address.url}${path ?? "/"}` },
      close: async () => {
        pings?.stop();
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

/** One timer per listener pings every watched WebSocket; a missed pong terminates it. */
class PingSweeper {
  readonly #alive = new Map<WebSocket, boolean>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(intervalMs: number) {
    this.#timer = setInterval(() => this.#sweep(), intervalMs);
    this.#timer.unref();
  }

  watch(ws: WebSocket): void {
    this.#alive.set(ws, true);
    ws.on("pong", () => {
      if (this.#alive.has(ws)) this.#alive.set(ws, true);
    });
    ws.once("close", () => this.#alive.delete(ws));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#alive.clear();
  }

  #sweep(): void {
    for (const [ws, alive] of this.#alive) {
      if (!alive) {
        this.#alive.delete(ws);
        ws.terminate();
        continue;
      }
      this.#alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        // closing already; its close event removes it
      }
    }
  }
}

/** Turns a plain HTTP request into a web `Request`, and streams the `Response` back. */
function serveRequest(
  onRequest: (request: Request) => Response | Promise<Response>,
  incoming: http.IncomingMessage,
  outgoing: http.ServerResponse,
): void {
  const controller = new AbortController();
  outgoing.once("close", () => {
    if (!outgoing.writableFinished) controller.abort();
  });
  const method = incoming.method ?? "GET";
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) { for (const item of value) headers.append(name, item); }
    else headers.set(name, value);
  }
  const hasBody = method !== "GET" && method !== "HEAD";
  let request: Request;
  try {
    const host = incoming.headers.host ?? "localhost";
    request = new Request(new URL(incoming.url ?? "/", `http://${host}`), {
      method,
      headers,
      signal: controller.signal,
      ...(hasBody ? { body: Readable.toWeb(incoming), duplex: "half" } : {}),
    } as RequestInit);
  } catch {
    outgoing.writeHead(400, { "content-type": "text/plain" }).end("Bad request\n");
    return;
  }
  Promise.resolve()
    .then(() => onRequest(request))
    .then(async (response) => {
      const head: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        head[name] = name === "set-cookie" ? response.headers.getSetCookie() : value;
      });
      outgoing.writeHead(response.status, response.statusText, head);
      if (response.body === null || method === "HEAD") {
        outgoing.end();
        return;
      }
      await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), outgoing);
    })
    .catch(() => {
      if (!outgoing.headersSent) {
        outgoing.writeHead(500, { "content-type": "text/plain" }).end("Internal error\n");
      } else {
        outgoing.destroy();
      }
    });
}
