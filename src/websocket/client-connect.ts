/**
 * `webSocketOver`: a `Connect` that opens WebSocket connections over any other `Connect` (a TCP
 * connection for `ws:`, TLS for `wss:`), doing the upgrade and RFC 6455 framing itself
 * (`client-socket.ts`). Runtime-neutral: the adapters give it their TCP or TLS connect, e.g.
 * `wsConnect` in `adapters/node/`.
 *
 * One deadline and one signal cover the whole open: the underlying connect and the handshake.
 * Whatever fails, nothing stays open: the underlying socket is reset before the promise rejects.
 *
 * @module
 */

import { ConnectError, describeError, InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { checkTimeout, watchDeadline } from "../deadline.ts";
import type { Connect, ConnectOptions, Socket, SocketSink } from "../socket.ts";
import { WebSocketClientSocket } from "./client-socket.ts";
import {
  acceptResponse,
  checkProtocols,
  createHandshake,
  responseHeadEnd,
  type WebSocketHandshake,
} from "./handshake.ts";

export interface WebSocketOverOptions {
  /** `ws://` or `wss://` URL of the server (its host and path go into the upgrade request). */
  readonly url: string | URL;
  /** Subprotocols to offer; the server must pick one of them. */
  readonly protocols?: string | readonly string[];
  /** Default deadline for connect plus handshake (default `connectTimeoutMs`). */
  readonly timeoutMs?: number;
  /** Deadline for a graceful close (default 30 s). */
  readonly closeTimeoutMs?: number;
}

/** Parses and checks a `ws:` / `wss:` URL. */
export function webSocketUrl(value: string | URL, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`${what}: invalid url, received ${String(value)}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new InvalidArgumentError(
      `${what}: url must use ws: or wss:, received ${url.protocol} (${url.href})`,
    );
  }
  if (url.hash !== "") {
    throw new InvalidArgumentError(`${what}: url must not have a fragment, received ${url.href}`);
  }
  return url;
}

/**
 * A `Connect` that opens WebSocket connections to `options.url` over sockets from `connect`.
 *
 * @example
 * ```ts
 * import { TransportClient, webSocketOver } from "ferry-transport";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * // Ferry's own RFC 6455 client over a TCP socket: no WebSocket global needed.
 * const connect = webSocketOver(tcpConnect({ host: "127.0.0.1", port: 8080 }), {
 *   url: "ws://127.0.0.1:8080/ferry",
 * });
 * const client = await TransportClient.connect(connect, { timeoutMs: 5_000 });
 * await client.close();
 * ```
 */
export function webSocketOver(connect: Connect, options: WebSocketOverOptions): Connect {
  const what = "webSocketOver";
  if (typeof connect !== "function") {
    throw new InvalidArgumentError(
      `${what}: connect must be a function, received ${typeof connect}`,
    );
  }
  const url = webSocketUrl(options.url, what);
  const protocols = checkProtocols(options.protocols, what);
  const defaultTimeoutMs = options.timeoutMs ?? defaultLimits.connectTimeoutMs;
  const closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
  checkTimeout(defaultTimeoutMs, "timeoutMs", what);
  checkTimeout(closeTimeoutMs, "closeTimeoutMs", what);
  const target = url.href;
  const transport = url.protocol === "wss:" ? "wss" : "ws";

  return async (connectOptions?: ConnectOptions) => {
    const timeoutMs = connectOptions?.timeoutMs ?? defaultTimeoutMs;
    checkTimeout(timeoutMs, "timeoutMs", `connect to ${target}`);
    const signal = connectOptions?.signal;
    signal?.throwIfAborted();
    const started = Date.now();
    const inner = await connect({ signal, timeoutMs });
    const left = timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - started)) : 0;
    return await upgrade(inner, {
      url,
      protocols,
      transport,
      closeTimeoutMs,
      deadline: { signal, timeoutMs: left },
    });
  };
}

interface UpgradeOptions {
  readonly url: URL;
  readonly protocols: readonly string[];
  readonly transport: string;
  readonly closeTimeoutMs: number;
  readonly deadline: ConnectOptions;
}

/** Runs the handshake on `inner`; resolves with the WebSocket socket or resets `inner` and rejects. */
function upgrade(inner: Socket, options: UpgradeOptions): Promise<Socket> {
  const target = options.url.href;
  return new Promise<Socket>((resolve, reject) => {
    let received = new Uint8Array(0);
    let early: Uint8Array[] | undefined; // bytes after the head, while the answer is checked
    let endedEarly: { error: unknown } | undefined; // the end, if it came while it was checked
    let settled = false;
    // The one sink `inner` ever gets: the handshake's until it succeeds, then the socket's.
    let relayTo: SocketSink | undefined;
    let dispose = () => {};
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      dispose();
      inner.close(error instanceof Error ? error : new ConnectError(String(error)));
      reject(error);
    };
    let handshake: WebSocketHandshake;
    try {
      handshake = createHandshake(options.url, options.protocols);
    } catch (error) {
      fail(error);
      return;
    }
    const onHead = (headEnd: number) => {
      early = headEnd < received.length ? [received.subarray(headEnd)] : [];
      inner.pause();
      acceptResponse(received.subarray(0, headEnd), handshake, target).then(() => {
        if (settled) return;
        settled = true;
        dispose();
        const socket = new WebSocketClientSocket(
          inner,
          {
            transport: options.transport,
            remoteAddress: target,
            closeTimeoutMs: options.closeTimeoutMs,
          },
          (sink) => (relayTo = sink),
          early!,
        );
        early = undefined; // the socket has them now; the relay must not keep them alive
        received = new Uint8Array(0);
        if (endedEarly !== undefined) relayTo!.close(endedEarly.error);
        resolve(socket);
      }, fail);
    };
    inner.attach({
      data(chunk) {
        if (relayTo !== undefined) return relayTo.data(chunk);
        if (settled) return;
        if (early !== undefined) {
          early.push(chunk);
          return;
        }
        const joined = new Uint8Array(received.length + chunk.length);
        joined.set(received);
        joined.set(chunk, received.length);
        received = joined;
        let headEnd: number;
        try {
          headEnd = responseHeadEnd(received, target);
        } catch (error) {
          fail(error);
          return;
        }
        if (headEnd >= 0) onHead(headEnd);
      },
      readBuffer: () => relayTo?.readBuffer?.(),
      drain() {
        relayTo?.drain();
      },
      close(error) {
        if (relayTo !== undefined) {
          relayTo.close(error);
          return;
        }
        if (early !== undefined && !settled) {
          endedEarly = { error }; // a complete head: the socket reports this end after its bytes
          return;
        }
        fail(
          new ConnectError(
            `WebSocket upgrade to ${target} failed: the connection ended before the server ` +
              `answered${error === undefined ? "" : ` (${describeError(error)})`}`,
            { cause: error },
          ),
        );
      },
    });
    if (settled) return; // the inner socket's held bytes already failed the upgrade inside attach
    dispose = watchDeadline(options.deadline, `WebSocket upgrade to ${target}`, fail);
    if (!settled) inner.write(handshake.request);
  });
}
