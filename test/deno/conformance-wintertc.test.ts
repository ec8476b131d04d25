/**
 * The socket conformance suite on the WinterTC adapter (`adapters/wintertc/`), its connect side
 * built on a WinterTC-shaped socket (`{ readable, writable, opened, closed, close }`, Cloudflare's
 * `connect()` shape) that wraps `Deno.connect`'s web streams, against Deno's `tcpListen`. Each case
 * is a `Deno.test` with the resource and op sanitizers on.
 */
import { tcpListen } from "../../adapters/deno/mod.ts";
import {
  winterTcConnect,
  type WinterTcConnectFunction,
  type WinterTcSocketLike,
} from "../../adapters/wintertc/mod.ts";
import { socketConformanceCases } from "../conformance/socket-suite.ts";
import { denoSanitizedTests } from "../helpers/deno-sanitized-test.ts";

interface DenoConn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: { hostname: string; port: number };
  readonly remoteAddr: { hostname: string; port: number };
  closeWrite(): Promise<void>;
  close(): void;
}

/** The part of `Deno` used here, typed locally so Node's type-check passes. */
const Deno = (globalThis as unknown as {
  Deno: {
    connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoConn>;
  };
}).Deno;

/**
 * A WinterTC `connect` over `Deno.connect`: returns at once; `readable` and `writable` forward to
 * the conn's own streams once it is up. As in Cloudflare's sockets, closing `writable` ends only
 * our side (`closeWrite`, a FIN) where Deno's `conn.writable` would close the whole conn; an end
 * read from the peer closes the conn (`allowHalfOpen: false`). `close()` closes both directions
 * (or cancels a connect in flight).
 */
const denoWinterTcConnect: WinterTcConnectFunction = (address) => {
  const aborter = new AbortController();
  const conn = Deno.connect({
    hostname: address.hostname,
    port: address.port,
    signal: aborter.signal,
  });
  conn.catch(() => {}); // reported through `opened`
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      reader ??= (await conn).readable.getReader();
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader?.cancel(reason),
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      writer ??= (await conn).writable.getWriter();
      await writer.write(chunk);
    },
    close: async () => (await conn).closeWrite(),
    abort: (reason) => writer?.abort(reason),
  });
  const socket: WinterTcSocketLike = {
    readable,
    writable,
    opened: conn.then((c) => ({
      remoteAddress: `${c.remoteAddr.hostname}:${c.remoteAddr.port}`,
      localAddress: `${c.localAddr.hostname}:${c.localAddr.port}`,
    })),
    closed,
    close: async () => {
      aborter.abort();
      try {
        (await conn).close();
      } catch {
        // never connected, or already closed by an end or a cancel
      }
      resolveClosed();
    },
  };
  return socket;
};

const cases = socketConformanceCases({
  listen: (options) => tcpListen({ host: "127.0.0.1", port: 0, ...options }),
  connect: (address, options) =>
    winterTcConnect(denoWinterTcConnect, { host: address.host, port: address.port, ...options }),
  // WinterTC sockets have no reset (and Deno's TCP API cannot send one): the peer sees the end.
  resetReachesPeer: false,
});

denoSanitizedTests("socket conformance: wintertc over deno tcp", cases);
