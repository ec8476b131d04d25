/**
 * A `Listen` and a `Connect` wired to each other inside one process: for a gateway in front of a
 * transport server of the same process (`ferry serve`), whose backend connections would otherwise
 * be loopback TCP. Every byte of a chunk reply then crossed the kernel twice (the server's write,
 * the gateway's read) and was copied twice more in user space (into the read buffer, then into
 * the frame the decoder assembles); here the server's frames reach the gateway's decoder as the
 * very chunks the server wrote, and a chunk body passes through whole (the decoder takes a chunk
 * that is exactly a frame's body as the body itself).
 *
 * Only the transport changes: the gateway still leases a backend connection per session from its
 * pool, with its caps, budgets, bootstraps (the Ferry heartbeat) and backpressure, and the server
 * still decodes, limits and answers every frame as it would over TCP.
 *
 * The sockets are `src/in-process-socket.ts`'s pair: delivered in a microtask, not copied (frame
 * writers never hand out a region twice, `frame-slab.ts`, `header-allocator.ts`, so a view can be
 * kept), with the write high-water mark and `drain` of a real socket, so a paused gateway holds
 * back the server as a full TCP window would, and the server's own reply limits then stop it.
 * Uses no timers.
 *
 * @module
 */

import { ConnectError, TransportError } from "../errors.ts";
import { inProcessSocketPair } from "../in-process-socket.ts";
import { defaultLimits } from "../limits.ts";
import type { Connect, ConnectOptions, Listen, Socket, SocketListener } from "../socket.ts";

/** A `Listen` for the server and the `Connect` that reaches it. */
export interface InProcessNetwork {
  /** Binds the network's one address; rejects while another listener is bound. */
  readonly listen: Listen;
  /** Connects to the bound listener; rejects with `ConnectError` when nothing listens. */
  readonly connect: Connect;
}

/**
 * An in-process network named `label` (in addresses and errors): `connect` reaches whatever
 * `listen` bound. `highWaterMark` is each socket's write high-water mark (default
 * `defaultLimits.writeHighWaterMark`, as over TCP).
 */
export function inProcessNetwork(
  label: string,
  highWaterMark: number = defaultLimits.writeHighWaterMark,
): InProcessNetwork {
  const url = `in-process://${label}`;
  let accept: ((socket: Socket) => void) | undefined;
  let connections = 0;

  const listen: Listen = (onSocket) => {
    if (accept !== undefined) {
      return Promise.reject(new TransportError(`listen on ${url} failed: already bound`));
    }
    const current = onSocket;
    accept = current;
    const listener: SocketListener = {
      address: { host: label, port: 0, url },
      close: () => {
        if (accept === current) accept = undefined;
        return Promise.resolve();
      },
    };
    return Promise.resolve(listener);
  };

  const connect: Connect = (options?: ConnectOptions) => {
    try {
      options?.signal?.throwIfAborted();
    } catch (reason) {
      return Promise.reject(reason);
    }
    const onSocket = accept;
    if (onSocket === undefined) {
      return Promise.reject(new ConnectError(`connect to ${url} failed: nothing listens there`));
    }
    const id = ++connections;
    const [client, server] = inProcessSocketPair(
      {
        info: { transport: "in-process", localAddress: `${label}#${id}`, remoteAddress: label },
        name: `in-process connection ${label}#${id}`,
      },
      {
        info: { transport: "in-process", localAddress: label, remoteAddress: `${label}#${id}` },
        name: `in-process connection ${label} (from #${id})`,
      },
      { highWaterMark },
    );
    try {
      onSocket(server);
    } catch (error) {
      server.close(error);
    }
    return Promise.resolve(client);
  };

  return { listen, connect };
}
