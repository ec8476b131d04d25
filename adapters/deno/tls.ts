/**
 * TLS for Deno: `tlsConnect` opens TCP with `Deno.connect` and upgrades it with `Deno.startTls`,
 * `tlsListen` serves `Deno.listenTls`; sockets are handed out only after the handshake, which
 * runs under the connect deadline (client) or `handshakeTimeoutMs` (server). Certificate problems
 * reject the connect with a `ConnectError` carrying rustls' reason (e.g. `UnknownIssuer`).
 *
 * Deno limitation: closing a `TlsConn` whose handshake has not finished (a silent client dropped
 * at `handshakeTimeoutMs`, or pending when the listener closes) releases it on the JavaScript side
 * at once, but Deno keeps the OS socket until the client goes away.
 *
 * @module
 */

import { InvalidArgumentError, TimeoutError } from "../../src/errors.ts";
import type { Connect, ConnectOptions, Listen, Socket } from "../../src/socket.ts";
import { checkTcpConnectOptions, checkTcpListenOptions, formatHostPort } from "../tcp-options.ts";
import {
  checkTlsConnectOptions,
  checkTlsListenOptions,
  type TlsConnectOptions,
  type TlsListenOptions,
} from "../tls-options.ts";
import { type DenoApi, denoApi, type DenoTlsConn } from "./deno-api.ts";
import { closeQuietly, connectWithDeadline, serveListener } from "./deno-endpoint.ts";
import { listenError, openTcp, refuseKeepAliveDelay, wrapTuned } from "./tcp.ts";

export type { TlsConnectOptions, TlsListenOptions } from "../tls-options.ts";

/** Runs the handshake; `signal` aborting closes the connection (and so fails the handshake). */
async function handshake(conn: DenoTlsConn, signal: AbortSignal): Promise<void> {
  const onAbort = () => closeQuietly(conn);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    signal.throwIfAborted();
    await conn.handshake();
  } catch (error) {
    closeQuietly(conn);
    throw signal.aborted ? signal.reason : error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** A `Connect` that opens TLS connections to `host:port`, verifying the server certificate. */
export function tlsConnect(options: TlsConnectOptions): Connect {
  const checked = checkTcpConnectOptions(options, "tlsConnect");
  refuseKeepAliveDelay(checked, "tlsConnect");
  const { ca, serverName, alpnProtocols } = checkTlsConnectOptions(options, "tlsConnect");
  const deno: DenoApi = denoApi();
  const target = `tls://${formatHostPort(checked.host, checked.port)}`;
  return async (connectOptions?: ConnectOptions): Promise<Socket> => {
    const conn = await connectWithDeadline(
      target,
      connectOptions,
      checked.timeoutMs,
      async (signal) => {
        const tcp = await openTcp(deno, checked.host, checked.port, checked, signal);
        let secure: DenoTlsConn;
        try {
          secure = await deno.startTls(tcp, { hostname: serverName, caCerts: ca, alpnProtocols });
        } catch (error) {
          closeQuietly(tcp);
          throw error;
        }
        await handshake(secure, signal);
        return secure;
      },
    );
    return wrapTuned(deno, conn, checked, "tls");
  };
}

/** A `Listen` that accepts TLS connections; each is handed out once its handshake is done. */
export function tlsListen(options: TlsListenOptions): Listen {
  const tlsChecked = checkTlsListenOptions(options, "tlsListen");
  const checked = checkTcpListenOptions(options, "tlsListen");
  refuseKeepAliveDelay(checked, "tlsListen");
  const deno = denoApi();
  const timeoutMs = tlsChecked.handshakeTimeoutMs;
  return (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(new InvalidArgumentError(`tlsListen: onSocket must be a function`));
    }
    let listener;
    try {
      listener = deno.listenTls({
        hostname: checked.host,
        port: checked.port,
        transport: "tcp",
        tcpBacklog: checked.backlog,
        cert: tlsChecked.cert,
        key: tlsChecked.key,
        alpnProtocols: tlsChecked.alpnProtocols,
      });
    } catch (error) {
      return Promise.reject(listenError("tls", checked.host, checked.port, error));
    }
    const prepare = async (conn: DenoTlsConn, closing: AbortSignal) => {
      if (!(timeoutMs > 0)) return await handshake(conn, closing);
      // A client that never finishes its handshake is dropped.
      const deadline = new AbortController();
      const timer = setTimeout(() =>
        deadline.abort(
          new TimeoutError(`TLS handshake did not finish within ${timeoutMs} ms`, timeoutMs),
        ), timeoutMs);
      deno.unrefTimer(timer);
      try {
        await handshake(conn, AbortSignal.any([closing, deadline.signal]));
      } finally {
        clearTimeout(timer);
      }
    };
    return Promise.resolve(
      serveListener(
        deno,
        listener,
        "tls",
        onSocket,
        prepare,
        (conn) => wrapTuned(deno, conn, checked, "tls"),
      ),
    );
  };
}
