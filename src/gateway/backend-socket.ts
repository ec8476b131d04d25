/**
 * The socket under one backend connection of the gateway, as the session sees it: it forwards
 * everything to the adapter's socket and remembers whether the backend is taking bytes — its last
 * `write` returned `false` and no `drain` came since — so a session whose browser sends one-way
 * messages faster than the backend reads them can pause the browser and be woken by the backend's
 * own `drain` instead of polling the client's queue on a timer.
 *
 * {@linkcode backendConnector} opens the gateway's pooled clients over such sockets and hands each
 * client's socket to `opened`, so the gateway can find it again for the session that leases it.
 *
 * @module
 */

import type { ClientOptions } from "../client/client-options.ts";
import { TransportClient } from "../client/transport-client.ts";
import type { Connector } from "../pool/pool-options.ts";
import type { Route } from "../pool/route.ts";
import type { Connect, Socket, SocketClosed, SocketInfo, SocketSink } from "../socket.ts";

export class BackendSocket implements Socket {
  readonly #inner: Socket;
  #blocked = false;
  #onDrain: (() => void)[] = [];
  readonly allocateUninitialized?: (size: number) => Uint8Array;

  constructor(inner: Socket) {
    this.#inner = inner;
    if (inner.allocateUninitialized !== undefined) {
      this.allocateUninitialized = (size) => inner.allocateUninitialized!(size);
    }
  }

  /** The backend's last write returned `false` and it has not drained since. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Calls `listener` once at the backend's next `drain` (after the client has written more). */
  onceDrained(listener: () => void): void {
    this.#onDrain.push(listener);
  }

  get info(): SocketInfo {
    return this.#inner.info;
  }

  get bufferedAmount(): number {
    return this.#inner.bufferedAmount;
  }

  get closed(): Promise<SocketClosed> {
    return this.#inner.closed;
  }

  attach(sink: SocketSink): void {
    const wrapped: SocketSink = {
      data: (chunk) => sink.data(chunk),
      drain: () => {
        this.#blocked = false;
        sink.drain();
        const listeners = this.#onDrain;
        this.#onDrain = [];
        for (const listener of listeners) listener();
      },
      close: (error) => {
        this.#onDrain = [];
        sink.close(error);
      },
    };
    // Adapters test for `readBuffer` to choose bring-your-own-buffer reads: keep it only if given.
    if (sink.readBuffer !== undefined) wrapped.readBuffer = (pastEnd) => sink.readBuffer!(pastEnd);
    this.#inner.attach(wrapped);
  }

  write(chunk: Uint8Array): boolean {
    const writable = this.#inner.write(chunk);
    if (!writable) this.#blocked = true;
    return writable;
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }

  close(error?: unknown): void {
    this.#inner.close(error);
  }
}

/**
 * A pool connector like `transportConnector`, whose clients run over {@linkcode BackendSocket}s;
 * `opened(client, socket)` hears each client with its socket before the pool gets it.
 */
export function backendConnector(
  connectFor: (route: Route) => Connect,
  clientOptions: ClientOptions,
  opened: (client: TransportClient, socket: BackendSocket) => void,
): Connector<TransportClient> {
  return async (route, options) => {
    const connect = connectFor(route);
    let socket: BackendSocket | undefined;
    const client = await TransportClient.connect(
      (connectOptions) =>
        connect(connectOptions).then((inner) => socket = new BackendSocket(inner)),
      {
        ...clientOptions,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
    );
    opened(client, socket!);
    return client;
  };
}
