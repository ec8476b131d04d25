/**
 * `webSocketConnect`: a `Connect` over WebSockets for any runtime with a WHATWG `WebSocket`
 * (browsers, Deno, Node ≥ 22) or an injected constructor (Node 20: the `ws` package). Binary
 * messages only; see `websocket-socket.ts` for the socket semantics.
 *
 * @module
 */

import { ConnectError, InvalidArgumentError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import { checkTimeout, isValidTimeout, watchDeadline } from "../../src/deadline.ts";
import type { Connect, ConnectOptions, Socket } from "../../src/socket.ts";
import { binaryTypeFor, type WebSocketLike } from "../websocket-like.ts";
import { wrapWebSocket } from "../websocket-socket.ts";

/** A WebSocket constructor: the global one, or e.g. `ws`'s `WebSocket` class. */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

export interface WebSocketConnectOptions {
  /** `ws://` or `wss://` URL of the server (or gateway). */
  readonly url: string | URL;
  /** Subprotocols to offer. */
  readonly protocols?: string | readonly string[];
  /** `bufferedAmount` above which `write` returns false (default `writeHighWaterMark`). */
  readonly highWaterMark?: number;
  /** Default deadline for the opening handshake (default `connectTimeoutMs`). */
  readonly timeoutMs?: number;
  /** Deadline for a graceful close (default 30 s). */
  readonly closeTimeoutMs?: number;
  /** Received bytes held while paused before the socket closes with a LimitError (256 MiB). */
  readonly maxHeldBytes?: number;
  /** The constructor to use (default: the global `WebSocket`). */
  readonly WebSocket?: WebSocketConstructor;
}

function checkCount(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidArgumentError(
      `webSocketConnect: ${name} must be a non-negative integer, received ${String(value)}`,
    );
  }
  return value as number;
}

/** A `Connect` that opens WebSocket connections to `url`. */
export function webSocketConnect(options: WebSocketConnectOptions): Connect {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new InvalidArgumentError(`webSocketConnect: invalid url, received ${options.url}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new InvalidArgumentError(
      `webSocketConnect: url must use ws: or wss:, received ${url.protocol} (${url.href})`,
    );
  }
  const Ctor = options.WebSocket ??
    (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof Ctor !== "function") {
    throw new InvalidArgumentError(
      "webSocketConnect: this runtime has no global WebSocket; pass one as options.WebSocket " +
        "(e.g. the `ws` package's WebSocket class)",
    );
  }
  const highWaterMark = checkCount(
    options.highWaterMark ?? defaultLimits.writeHighWaterMark,
    "highWaterMark",
  );
  const maxHeldBytes = checkCount(
    options.maxHeldBytes ?? defaultLimits.writeHardCap,
    "maxHeldBytes",
  );
  const defaultTimeoutMs = options.timeoutMs ?? defaultLimits.connectTimeoutMs;
  const closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
  checkTimeout(defaultTimeoutMs, "timeoutMs", "webSocketConnect");
  checkTimeout(closeTimeoutMs, "closeTimeoutMs", "webSocketConnect");
  const protocols = options.protocols === undefined
    ? undefined
    : typeof options.protocols === "string"
    ? options.protocols
    : [...options.protocols];
  const target = url.href;
  const transport = url.protocol === "wss:" ? "wss" : "ws";

  return (connectOptions?: ConnectOptions) =>
    new Promise<Socket>((resolve, reject) => {
      const timeoutMs = connectOptions?.timeoutMs ?? defaultTimeoutMs;
      if (!isValidTimeout(timeoutMs)) {
        throw new InvalidArgumentError(
          `connect to ${target}: timeoutMs must be a finite number ≥ 0, received ${timeoutMs}`,
        );
      }
      const signal = connectOptions?.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let ws: WebSocketLike;
      try {
        ws = new Ctor(target, protocols);
      } catch (error) {
        reject(new ConnectError(`connect to ${target} failed: ${String(error)}`, { cause: error }));
        return;
      }
      ws.binaryType = binaryTypeFor(ws);
      let lastError: unknown;
      const cleanup = () => {
        dispose();
        ws.removeEventListener("open", onOpen);
        ws.removeEventListener("error", onError);
        ws.removeEventListener("close", onClose);
      };
      const fail = (error: unknown) => {
        cleanup();
        // Tearing down a connecting socket reports an error (`ws` throws if nobody listens).
        ws.addEventListener("error", () => {});
        try {
          if (ws.terminate !== undefined) ws.terminate();
          else ws.close();
        } catch {
          // not open yet in some runtimes; it is being torn down either way
        }
        reject(error);
      };
      const onOpen = () => {
        cleanup();
        resolve(wrapWebSocket(ws, {
          transport,
          remoteAddress: target,
          highWaterMark,
          maxHeldBytes,
          closeTimeoutMs,
        }));
      };
      const onError = (event: { error?: unknown; message?: string }) => {
        lastError = event.error ?? event.message;
      };
      const onClose = (event: CloseEvent) => {
        cleanup();
        const detail = lastError instanceof Error
          ? lastError.message
          : typeof lastError === "string" && lastError
          ? lastError
          : `closed with code ${event.code}${event.reason ? ` (${event.reason})` : ""}`;
        reject(
          new ConnectError(`connect to ${target} failed: ${detail}`, {
            cause: lastError ?? event,
          }),
        );
      };
      ws.addEventListener("open", onOpen);
      ws.addEventListener("error", onError);
      ws.addEventListener("close", onClose);
      const dispose = watchDeadline({ timeoutMs, signal }, `connect to ${target}`, fail);
    });
}
