/**
 * WebSocket listener for Deno on `Deno.serve` + `Deno.upgradeWebSocket`: upgrades requests
 * (optionally only on `path`, and only where `allowUpgrade` agrees) and hands every WebSocket to
 * `onSocket` as a Ferry `Socket` once it is open, with the upgrade request as `context.upgrade`.
 * Other requests go to `onRequest` when given (static files on the same port), else get 426.
 * `pingIntervalMs` becomes `upgradeWebSocket`'s `idleTimeout` (whole seconds, rounded up): Deno
 * pings and closes a WebSocket whose peer stops answering.
 *
 * Upgrades are checked in this order: path (404), Origin allowlist and `allowUpgrade` (403),
 * connection caps (503, counted), all before `upgradeWebSocket`.
 *
 * Three Deno limitations, against the socket contract:
 * - Deno's server-side WebSocket cannot pause reading: while paused, received messages are held
 *   in the adapter (bounded by `maxHeldBytes`), so backpressure does not reach the remote writer.
 * - `Deno.serve` cannot stop listening without ending what it upgraded: closing this listener
 *   also closes the WebSockets it accepted (their `closed` reports how).
 * - `Deno.serve` has no header deadline: a half-sent upgrade request is held as long as Deno's
 *   HTTP server holds it (more than 70 s with Deno 2.9.5), so this listener cannot apply
 *   `defaultLimits.upgradeHeadersTimeoutMs`; put a proxy with one in front where slowloris matters.
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
  type WebSocketListenCommonOptions,
} from "../websocket-listen-options.ts";
import {
  type ConnectionAdmissionStats,
  ConnectionCapError,
} from "../../src/server/connection-admission.ts";
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
  /** Receives the listener's connection counters (open, refused by each cap) once it is bound. */
  readonly onStats?: (stats: () => ConnectionAdmissionStats) => void;
}

/** A `Listen` that accepts WebSocket connections on `host:port` (port 0 picks a free port). */
export function webSocketListen(options: WebSocketListenOptions = {}): Listen {
  const checked = checkWebSocketListenOptions(options, "webSocketListen");
  const { path, admitUpgrade, onRequest } = checked;
  const maxHeldBytes = options.maxHeldBytes ?? defaultLimits.writeHardCap;
  const idleTimeout = Math.ceil(checked.pingIntervalMs / 1000);
  const deno = denoApi();

  return (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(
        new InvalidArgumentError(`webSocketListen: onSocket must be a function`),
      );
    }
    const admission = checked.newAdmission();
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
          if (!admitUpgrade(upgrade)) return new Response(null, { status: 403 });
          const release = admission.admit(remoteAddress);
          if (release instanceof ConnectionCapError) return new Response(null, { status: 503 });
          let upgraded;
          try {
            upgraded = deno.upgradeWebSocket(request, { idleTimeout });
          } catch (error) {
            release();
            throw error;
          }
          const { socket: ws, response } = upgraded;
          // Charged until the WebSocket ends, whether or not it ever opened.
          ws.addEventListener("close", release, { once: true });
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
    options.onStats?.(() => admission.stats());
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
