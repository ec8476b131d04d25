/**
 * An in-memory, deterministic implementation of the `src/socket.ts` contract, for fast tests.
 *
 * `memorySocketPair()` returns two connected ends. Bytes written on one end are delivered to the
 * other end's sink in a microtask (never inside the `write` call), in order, one `data` call per
 * written chunk, each a fresh copy taken at delivery time (so a writer that mutates a chunk after
 * `write` is caught, and a receiver owns what it gets). Every callback runs from a microtask,
 * never re-entrantly inside a caller's `write`/`pause`/`resume`/`close`/`attach`.
 *
 * Like a real socket:
 * - `bufferedAmount` counts bytes written and not yet delivered to the peer's sink; `write` returns
 *   `false` once it is above `highWaterMark`, and `drain` follows when it is back at or below it.
 *   Bytes pile up only while the peer is paused or not yet attached (or within one microtask).
 * - `close()` lets the peer read everything written, then the peer sees the end, closes entirely
 *   (`sink.close(undefined)`) and its own end reaches this side, which then closes the same way.
 *   A graceful close resumes reading so the peer's end can be seen.
 * - `close(error)` is a reset: undelivered bytes in both directions are dropped, this end closes
 *   with `error`, the peer closes with a `ConnectionClosedError` ("connection reset by peer").
 *   A sink whose `data` or `drain` throws resets the socket with what it threw.
 *
 * The sockets are Ferry's own in-process pair (`src/in-process-socket.ts`, which `ferry serve`'s
 * gateway runs on) in its copying mode, so the tests exercise the implementation that ships.
 *
 * `memoryNetwork()` wires a `Listen` and a `Connect` together the way a TCP listener and a
 * connector are, so a server and a client can run in memory exactly as over TCP.
 *
 * @module
 */

import { ConnectError, InvalidArgumentError, TransportError } from "../../src/errors.ts";
import { inProcessSocketPair } from "../../src/in-process-socket.ts";
import { defaultLimits } from "../../src/limits.ts";
import type { Connect, ConnectOptions, Listen, Socket, SocketListener } from "../../src/socket.ts";

/** Options for a memory socket pair or network. */
export interface MemorySocketOptions {
  /** Undelivered bytes above which `write` returns false (default: `writeHighWaterMark`). */
  readonly highWaterMark?: number;
  /** Names the pair in addresses and error messages (default `memory`). */
  readonly label?: string;
}

function checkOptions(options: MemorySocketOptions | undefined): Required<MemorySocketOptions> {
  const highWaterMark = options?.highWaterMark ?? defaultLimits.writeHighWaterMark;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 0) {
    throw new InvalidArgumentError(
      `memory socket: highWaterMark must be a non-negative integer, received ${highWaterMark}`,
    );
  }
  return { highWaterMark, label: options?.label ?? "memory" };
}

function makePair(
  highWaterMark: number,
  a: { name: string; address: string },
  b: { name: string; address: string },
): [Socket, Socket] {
  return inProcessSocketPair(
    {
      info: { transport: "memory", localAddress: a.address, remoteAddress: b.address },
      name: `memory socket ${a.name}`,
    },
    {
      info: { transport: "memory", localAddress: b.address, remoteAddress: a.address },
      name: `memory socket ${b.name}`,
    },
    { highWaterMark, copyOnDelivery: true },
  );
}

/** Two connected in-memory sockets. */
export function memorySocketPair(options?: MemorySocketOptions): [Socket, Socket] {
  const { highWaterMark, label } = checkOptions(options);
  return makePair(
    highWaterMark,
    { name: `${label}/a`, address: `${label}:a` },
    { name: `${label}/b`, address: `${label}:b` },
  );
}

/** A `Listen` and a `Connect` wired to each other in memory. */
export interface MemoryNetwork {
  /** Binds the network's single address; rejects while another listener is bound. */
  readonly listen: Listen;
  /** Connects to the bound listener; rejects with `ConnectError` when nothing listens. */
  readonly connect: Connect;
}

/** A one-address in-memory network: `connect` reaches whatever `listen` bound. */
export function memoryNetwork(options?: MemorySocketOptions): MemoryNetwork {
  const { highWaterMark, label } = checkOptions(options);
  const port = 1;
  const url = `memory://${label}:${port}`;
  let accept: ((socket: Socket) => void) | undefined;
  let connections = 0;

  const listen: Listen = (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(
        new InvalidArgumentError(`listen on ${url}: onSocket must be a function`),
      );
    }
    if (accept !== undefined) {
      return Promise.reject(
        new TransportError(`listen on ${url} failed: address already in use`),
      );
    }
    const current = onSocket;
    accept = current;
    let open = true;
    const listener: SocketListener = {
      address: { host: label, port, url },
      close: () => {
        if (open) {
          open = false;
          if (accept === current) accept = undefined;
        }
        return Promise.resolve();
      },
    };
    return Promise.resolve(listener);
  };

  const connect: Connect = async (connectOptions?: ConnectOptions) => {
    const signal = connectOptions?.signal;
    signal?.throwIfAborted();
    // Connecting takes a turn of the event loop, as over a real network.
    await Promise.resolve();
    signal?.throwIfAborted();
    const onSocket = accept;
    if (onSocket === undefined) {
      throw new ConnectError(`connect to ${url} failed: connection refused (nothing listening)`);
    }
    const id = ++connections;
    const [client, server] = makePair(
      highWaterMark,
      { name: `${label}/client-${id}`, address: `${label}:client-${id}` },
      { name: `${label}/server-${id}`, address: `${label}:${port}` },
    );
    try {
      onSocket(server);
    } catch (error) {
      server.close(error);
    }
    return client;
  };

  return { listen, connect };
}
