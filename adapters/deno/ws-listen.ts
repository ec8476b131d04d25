/**
 * WebSocket listener for Deno on `Deno.serve` + `Deno.upgradeWebSocket`: upgrades requests
 * (optionally only on `path`, and only where `allowUpgrade` agrees) and hands every WebSocket to
 * `onSocket` as a Ferry `Socket` once it is open, with the upgrade request as `context.upgrade`.
 * Other requests go to `onRequest` when given (static files on the same port), else get 426.
 * `pingIntervalMs` becomes `upgradeWebSocket`'s `idleTimeout` (whole seconds, rounded up): Deno
 * pings and closes a WebSocket whose peer stops answering.
 *
 * Two Deno limitations, against the socket contract:
 * - Deno's server-side WebSocket cannot pause reading: while paused, received messages are held
 *   in the adapter (bounded by `maxHeldBytes`), so backpressure does not reach the remote writer.
 * - `Deno.serve` cannot stop listening without ending what it upgraded: closing this listener
 *   also closes the WebSockets it accepted (their `closed` reports how).
 *
 * @module
 */

import { InvalidArgumentError, TransportError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import type { Listen, SocketListener } from "../../src/socket.ts";
import { handOverAccepted } from "../accepted-socket.ts";
import { formatHostPort } from "../tcp-options.ts";
import {
  checkWebSocketListenOptions,
  upgradeAllowed,
  type WebSocketListenCommonOptions,
} from "../websocket-listen-options.ts";
import type { WebSocketLike } from "../websocket-like.ts";
import { wrapWebSocket } from "../websocket-socket.ts";
import type { UpgradeRequest } from "../websocket-upgrade-request.ts";
import { denoApi, denoErrorCode } from "./deno-api.ts";

export type { UpgradeRequest } from "../websocket-upgrade-request.ts";

export interface WebSocketListenOptions extends WebSocketListenCommonOptions {
  /** Received bytes held while paused before the socket closes with a LimitError (256 MiB). */
  readonly maxHeldBytes?: number;
  /** Deno's `idleTimeout` for pings, in ms rounded up to seconds (0 = never, default). */
  readonly pingIntervalMs?: number;
}

/** A `Listen` that accepts WebSocket connections on `host:port` (port 0 picks a free port). */
export function webSocketListen(options: WebSocketListenOptions = {}): Listen {
  const checked = checkWebSocketListenOptions(options, "webSocketListen");
  const { path, allowUpgrade, onRequest } = checked;
  const maxHeldBytes = options.maxHeldBytes ?? defaultLimits.writeHardCap;
  const idleTimeout = Math.ceil(checked.pingIntervalMs / 1000);
  const deno = denoApi();

  return (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(
        new InvalidArgumentError(`webSocketListen: onSocket must be a function`),
      );
    }
    let server;
    try {
      server = deno.serve(
        { hostname: checked.host, port: checked.port, onListen: () => {} },
        (request, info) => {
          const url = new URL(request.url);
          if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
            if (onRequest !== undefined) return onRequest(request);
            return new Response("This endpoint speaks WebSocket only.\n", {
              status: 426,
              headers: { upgrade: "websocket" },
            });
          }
          if (path !== undefined && url.pathname !== path) {
            return new Response(null, { status: 404 });
          }
          const remoteAddress = formatHostPort(info.remoteAddr.hostname, info.remoteAddr.port);
          const headers = Object.fromEntries(request.headers);
          const upgrade: UpgradeRequest = {
            url: url.pathname + url.search,
            origin: request.headers.get("origin") ?? undefined,
            headers,
            remoteAddress,
          };
          if (!upgradeAllowed(allowUpgrade, upgrade)) return new Response(null, { status: 403 });
          const { socket: ws, response } = deno.upgradeWebSocket(request, { idleTimeout });
          ws.binaryType = "arraybuffer";
          ws.addEventListener("open", () => {
            const socket = wrapWebSocket(ws as WebSocketLike, {
              transport: "ws",
              remoteAddress,
              localAddress: formatHostPort(server!.addr.hostname, server!.addr.port),
              highWaterMark: checked.highWaterMark,
              maxHeldBytes,
              closeTimeoutMs: checked.closeTimeoutMs,
            });
            handOverAccepted(onSocket, socket, { upgrade });
          }, { once: true });
          return response;
        },
      );
    } catch (error) {
      const code = denoErrorCode(error);
      return Promise.reject(
        new TransportError(
          `listen on ws://${formatHostPort(checked.host, checked.port)} failed` +
            `${code ? ` (${code})` : ""}: ${(error as Error)?.message}`,
          { cause: error },
        ),
      );
    }
    const { hostname, port } = server.addr;
    let closing: Promise<void> | undefined;
    const listener: SocketListener = {
      address: {
        host: hostname,
        port,
        url: `ws://${formatHostPort(hostname, port)}${path ?? "/"}`,
      },
      close: () => (closing ??= server!.shutdown()),
    };
    return Promise.resolve(listener);
  };
}
