/**
 * A fault-injecting TCP proxy on loopback (node:net), for reliability tests: it sits between a
 * client and a server and, per connection and switchable at run time, forwards bytes faithfully or
 * breaks the stream in one of the ways real networks do.
 *
 * Faults (each applies to one direction or both, after `afterBytes` bytes went through normally):
 * - `reset` — both sockets are reset (TCP RST): the peers see ECONNRESET.
 * - `blackhole` — bytes are read and dropped; both sockets stay open (a half-open connection or a
 *   path that silently loses everything).
 * - `stall` — the proxy stops reading that direction: the sender's kernel buffers fill, so its
 *   writes back up; nothing more arrives on the other side.
 * - `truncate` — the stream is cut at `afterBytes` (typically mid-frame) and both sockets end
 *   gracefully (FIN): the receiver sees a clean end in the middle of a frame.
 * - `slice` — every byte is written on its own (Nagle off: its own segment), a few per event-loop
 *   turn (the receiver sees many 1-byte reads; frame boundaries fall everywhere).
 * - `delay` — every chunk is forwarded `delayMs` later (in order).
 * - `pass` — no fault.
 *
 * ```ts
 * const proxy = await FaultProxy.start({ port: server.port, fault: (i) => faults[i % faults.length] });
 * const connect = tcpConnect({ host: "127.0.0.1", port: proxy.port });
 * proxy.setFault({ kind: "blackhole" }); // every open connection, from now on
 * await proxy.close();
 * ```
 *
 * @module
 */

import * as net from "node:net";

export type FaultKind = "pass" | "reset" | "blackhole" | "stall" | "truncate" | "slice" | "delay";

/** Which way a fault applies: client→server (`toServer`), server→client (`toClient`), or both. */
export type FaultDirection = "toServer" | "toClient" | "both";

export interface FaultSpec {
  readonly kind: FaultKind;
  /** Default `both`. */
  readonly direction?: FaultDirection;
  /** Bytes forwarded normally in the faulted direction before the fault starts. Default 0. */
  readonly afterBytes?: number;
  /** For `delay`: how long every chunk is held. Default 10 ms. */
  readonly delayMs?: number;
  /** Switch this connection to `fault` once `afterMs` have passed since it was accepted. */
  readonly then?: { readonly afterMs: number; readonly fault: FaultSpec };
}

export interface FaultProxyOptions {
  /** The server behind the proxy. */
  readonly host?: string;
  readonly port: number;
  /** The fault of each accepted connection (by accept order), or one for all. Default `pass`. */
  readonly fault?: FaultSpec | ((connectionIndex: number) => FaultSpec);
}

/** What the proxy did, for test reports. */
export interface FaultProxyStats {
  readonly accepted: number;
  readonly open: number;
  readonly bytesToServer: number;
  readonly bytesToClient: number;
  /** Connections by the fault they started with. */
  readonly byKind: Readonly<Record<string, number>>;
}

const PASS: FaultSpec = { kind: "pass" };
/** `slice`: one-byte writes per event-loop turn. */
const SLICES_PER_TURN = 32;

/** One direction of one proxied connection. */
class Direction {
  readonly #from: net.Socket;
  readonly #to: net.Socket;
  readonly #pipe: ProxiedConnection;
  readonly #name: "toServer" | "toClient";
  /** Bytes forwarded so far (counts towards `afterBytes`). */
  forwarded = 0;
  /** Chunks waiting (delay, slice) in order. */
  #queue: Uint8Array[] = [];
  #busy = false;
  #stalled = false;

  constructor(
    from: net.Socket,
    to: net.Socket,
    pipe: ProxiedConnection,
    name: "toServer" | "toClient",
  ) {
    this.#from = from;
    this.#to = to;
    this.#pipe = pipe;
    this.#name = name;
    from.on("data", (chunk: Buffer) => this.#onData(chunk));
  }

  /** The fault now in force for this direction. */
  #fault(): FaultSpec {
    const fault = this.#pipe.fault;
    const direction = fault.direction ?? "both";
    return direction === "both" || direction === this.#name ? fault : PASS;
  }

  /** The fault changed at run time: a stalled direction may read again. */
  refresh(): void {
    if (this.#stalled && this.#fault().kind !== "stall") {
      this.#stalled = false;
      this.#from.resume();
      this.#pump();
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#pipe.ended) return;
    let bytes: Uint8Array = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const fault = this.#fault();
    const after = fault.afterBytes ?? 0;
    const normal = fault.kind === "pass" || fault.kind === "slice" || fault.kind === "delay";
    if (!normal && this.forwarded < after) {
      // The part before the fault goes through as is.
      const head = bytes.subarray(0, after - this.forwarded);
      this.#forward(head);
      bytes = bytes.subarray(head.byteLength);
      if (bytes.byteLength === 0) return;
    }
    switch (normal ? "normal" : fault.kind) {
      case "reset":
        this.#pipe.reset();
        return;
      case "truncate":
        this.#pipe.end();
        return;
      case "blackhole":
        this.#pipe.dropped += bytes.byteLength;
        return;
      case "stall":
        this.#stalled = true;
        this.#from.pause();
        this.#queue.push(bytes);
        return;
      default:
        this.#forward(bytes);
    }
  }

  #forward(bytes: Uint8Array): void {
    const fault = this.#fault();
    if (this.#busy || this.#queue.length > 0 || fault.kind === "slice" || fault.kind === "delay") {
      this.#queue.push(bytes);
      this.#pump();
      return;
    }
    this.#write(bytes);
  }

  /** Writes to the target; `paced` writes come from the queue pump, which paces itself. */
  #write(bytes: Uint8Array, done?: () => void, paced = done !== undefined): void {
    this.forwarded += bytes.byteLength;
    this.#pipe.count(this.#name, bytes.byteLength);
    if (this.#to.destroyed || this.#to.writableEnded) return;
    const writable = this.#to.write(bytes, done);
    if (!writable && !paced) {
      // Plain forwarding keeps backpressure end to end: stop reading until the target drains.
      this.#from.pause();
      this.#to.once("drain", () => {
        if (!this.#stalled) this.#from.resume();
      });
    }
  }

  /** Drains the queue one step at a time (slice: one byte per write; delay: one timer a chunk). */
  #pump(): void {
    if (this.#busy || this.#stalled || this.#pipe.ended) return;
    const head = this.#queue[0];
    if (head === undefined) return;
    const fault = this.#fault();
    this.#busy = true;
    const next = () => {
      this.#busy = false;
      this.#pump();
    };
    if (fault.kind === "slice") {
      // Up to SLICES_PER_TURN one-byte writes (separate segments: Nagle is off), then a turn of
      // the event loop, so a sliced connection still moves under load.
      let remaining = SLICES_PER_TURN;
      while (remaining-- > 0 && this.#queue.length > 0) {
        const chunk = this.#queue[0]!;
        if (chunk.byteLength === 1) this.#queue.shift();
        else this.#queue[0] = chunk.subarray(1);
        const last = remaining === 0 || this.#queue.length === 0;
        this.#write(chunk.subarray(0, 1), last ? () => setImmediate(next) : undefined, true);
      }
      return;
    }
    this.#queue.shift();
    if (fault.kind === "delay") {
      const timer = setTimeout(() => {
        this.#pipe.timers.delete(timer);
        this.#write(head, next);
      }, fault.delayMs ?? 10);
      this.#pipe.timers.add(timer);
      return;
    }
    this.#write(head, next);
  }
}

/** A client connection and its upstream connection to the server. */
class ProxiedConnection {
  fault: FaultSpec;
  ended = false;
  dropped = 0;
  readonly timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #client: net.Socket;
  readonly #server: net.Socket;
  readonly #proxy: FaultProxy;
  readonly #directions: Direction[];

  constructor(client: net.Socket, server: net.Socket, fault: FaultSpec, proxy: FaultProxy) {
    this.fault = fault;
    this.#client = client;
    this.#server = server;
    this.#proxy = proxy;
    for (const socket of [client, server]) {
      socket.setNoDelay(true);
      socket.on("error", () => this.reset());
      socket.on("close", () => this.#closed(socket));
      // A graceful end from one side is passed on once the other direction has been flushed.
      socket.on("end", () => this.end());
    }
    this.#directions = [
      new Direction(client, server, this, "toServer"),
      new Direction(server, client, this, "toClient"),
    ];
    this.#scheduleSwitch(fault);
  }

  #scheduleSwitch(fault: FaultSpec): void {
    const next = fault.then;
    if (next === undefined) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.ended) this.setFault(next.fault);
    }, next.afterMs);
    this.timers.add(timer);
  }

  setFault(fault: FaultSpec): void {
    this.fault = fault;
    for (const direction of this.#directions) direction.refresh();
    this.#scheduleSwitch(fault);
  }

  count(direction: "toServer" | "toClient", bytes: number): void {
    this.#proxy.count(direction, bytes);
  }

  /** Resets both sockets (RST). */
  reset(): void {
    if (this.ended && this.#client.destroyed && this.#server.destroyed) return;
    this.ended = true;
    this.#clearTimers();
    for (const socket of [this.#client, this.#server]) {
      if (socket.destroyed) continue;
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    }
  }

  /** Ends both sockets gracefully (FIN after what was already written). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.#clearTimers();
    for (const socket of [this.#client, this.#server]) {
      if (!socket.destroyed) socket.end();
      // A peer that never finishes its side is not our problem for long.
      const timer = setTimeout(() => socket.destroy(), 2_000);
      timer.unref();
      socket.once("close", () => clearTimeout(timer));
    }
  }

  #closed(socket: net.Socket): void {
    const other = socket === this.#client ? this.#server : this.#client;
    if (!other.destroyed && !this.ended) this.end();
    if (this.#client.destroyed && this.#server.destroyed) {
      this.#clearTimers();
      this.#proxy.forget(this);
    }
  }

  destroy(): void {
    this.ended = true;
    this.#clearTimers();
    this.#client.destroy();
    this.#server.destroy();
  }

  #clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

export class FaultProxy {
  /** Starts a proxy on 127.0.0.1 (ephemeral port) in front of `options.host:port`. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once("error", reject);
      proxy.#server.listen(0, "127.0.0.1", () => {
        proxy.#server.off("error", reject);
        resolve();
      });
    });
    return proxy;
  }

  readonly #options: FaultProxyOptions;
  readonly #server: net.Server;
  readonly #connections = new Set<ProxiedConnection>();
  #accepted = 0;
  #bytesToServer = 0;
  #bytesToClient = 0;
  #byKind: Record<string, number> = {};
  #override: FaultSpec | undefined;

  private constructor(options: FaultProxyOptions) {
    this.#options = options;
    this.#server = net.createServer({ allowHalfOpen: false, pauseOnConnect: true }, (client) => {
      this.#accept(client);
    });
  }

  /** The proxy's port on 127.0.0.1. */
  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  get stats(): FaultProxyStats {
    return {
      accepted: this.#accepted,
      open: this.#connections.size,
      bytesToServer: this.#bytesToServer,
      bytesToClient: this.#bytesToClient,
      byKind: { ...this.#byKind },
    };
  }

  /** Switches every open connection, and every later one, to `fault` (`undefined`: back to the
   * per-connection choice for later connections; open ones keep `fault`). */
  setFault(fault: FaultSpec | undefined): void {
    this.#override = fault;
    if (fault === undefined) return;
    for (const connection of this.#connections) connection.setFault(fault);
  }

  /** Stops accepting and destroys every proxied connection. */
  async close(): Promise<void> {
    for (const connection of this.#connections) connection.destroy();
    this.#connections.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  count(direction: "toServer" | "toClient", bytes: number): void {
    if (direction === "toServer") this.#bytesToServer += bytes;
    else this.#bytesToClient += bytes;
  }

  forget(connection: ProxiedConnection): void {
    this.#connections.delete(connection);
  }

  #faultFor(index: number): FaultSpec {
    if (this.#override !== undefined) return this.#override;
    const fault = this.#options.fault;
    if (fault === undefined) return PASS;
    return typeof fault === "function" ? fault(index) : fault;
  }

  #accept(client: net.Socket): void {
    const index = this.#accepted++;
    const fault = this.#faultFor(index);
    this.#byKind[fault.kind] = (this.#byKind[fault.kind] ?? 0) + 1;
    const upstream = net.connect({
      host: this.#options.host ?? "127.0.0.1",
      port: this.#options.port,
      allowHalfOpen: false,
    });
    upstream.pause();
    const connection = new ProxiedConnection(client, upstream, fault, this);
    this.#connections.add(connection);
    upstream.once("connect", () => {
      if (connection.ended) return;
      client.resume();
      upstream.resume();
    });
  }
}
