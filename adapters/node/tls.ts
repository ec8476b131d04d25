/**
 * TLS for Node: `tlsConnect` and `tlsListen` on `node:tls`, over TCP sockets this adapter tunes
 * (Nagle, keep-alive). A client reads decrypted bytes with `onread` straight into the decoder's
 * frames, as `tcpConnect` does. Sockets are handed out only after the handshake; certificate problems reject
 * the connect with a `ConnectError` naming Node's code (e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`).
 * `close(error)` cannot send a TCP RST under TLS on Node (see `node-socket.ts`): the peer sees the
 * end of the stream.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { InvalidArgumentError } from "../../src/errors.ts";
import type { Connect, Listen } from "../../src/socket.ts";
import { unrefTimer } from "../../src/deadline.ts";
import { handOverAccepted } from "../accepted-socket.ts";
import { checkTcpConnectOptions, checkTcpListenOptions, formatHostPort } from "../tcp-options.ts";
import {
  checkTlsConnectOptions,
  checkTlsListenOptions,
  type TlsConnectOptions,
  type TlsListenOptions,
} from "../tls-options.ts";
import { DirectReads } from "./direct-reads.ts";
import { wrapNodeSocket } from "./node-socket.ts";
import { bindNodeServer, openNodeConnection } from "./node-endpoint.ts";
import { nodeTcpOptions } from "./tcp.ts";

export type { TlsConnectOptions, TlsListenOptions } from "../tls-options.ts";

/** A `Connect` that opens TLS connections to `host:port`, verifying the server certificate. */
export function tlsConnect(options: TlsConnectOptions): Connect {
  const checked = checkTcpConnectOptions(options, "tlsConnect");
  const { ca, serverName, alpnProtocols } = checkTlsConnectOptions(options, "tlsConnect");
  const trusted = ca.length > 0 ? [...tls.rootCertificates, ...ca] : undefined;
  const target = `tls://${formatHostPort(checked.host, checked.port)}`;

  return async (connectOptions) => {
    // tls.connect opens the TCP socket itself: Node 20 honours `onread` on a TLS socket only
    // then (given a `socket` it passes `onread: null`), and with it the decrypted bytes of each
    // record are copied straight into the decoder's frame (`DirectReads`) instead of into a fresh
    // Buffer that the decoder copies again — no allocation, no stream `data` event per 16 KiB.
    const directReads = new DirectReads();
    const socket = await openNodeConnection(
      target,
      connectOptions,
      checked.timeoutMs,
      "secureConnect",
      () => {
        const secure = tls.connect({
          host: checked.host,
          port: checked.port,
          onread: directReads.options,
          allowHalfOpen: false,
          servername: net.isIP(serverName) ? undefined : serverName,
          checkServerIdentity: (_host, cert) => tls.checkServerIdentity(serverName, cert),
          ca: trusted,
          ALPNProtocols: alpnProtocols,
          minVersion: "TLSv1.2",
          highWaterMark: checked.highWaterMark, // honoured by Node, missing from @types/node
        } as tls.ConnectionOptions);
        // The TLS socket's constructor ignores net's tuning options; these reach the TCP handle
        // (libuv applies them when it creates the descriptor, before the handshake's first byte).
        secure.setNoDelay(checked.noDelay);
        secure.setKeepAlive(checked.keepAlive, checked.keepAliveInitialDelayMs ?? 0);
        return { socket: secure };
      },
    );
    return wrapNodeSocket(socket, {
      transport: "tls",
      closeTimeoutMs: checked.closeTimeoutMs,
      directReads,
      tls: true,
    });
  };
}

/**
 * A `Listen` that accepts TLS connections; each is handed out once its handshake is done. The listen
 * backlog is `options.backlog` (default 4096, see `DEFAULT_NODE_LISTEN_BACKLOG`).
 */
export function tlsListen(options: TlsListenOptions): Listen {
  const tlsChecked = checkTlsListenOptions(options, "tlsListen");
  const checked = checkTcpListenOptions(options, "tlsListen");
  const secureContext = tls.createSecureContext({
    cert: tlsChecked.cert,
    key: tlsChecked.key,
    minVersion: "TLSv1.2",
  });

  return (onSocket) => {
    if (typeof onSocket !== "function") {
      return Promise.reject(new InvalidArgumentError(`tlsListen: onSocket must be a function`));
    }
    const server = net.createServer(
      { ...nodeTcpOptions(checked), highWaterMark: checked.highWaterMark } as net.ServerOpts,
      (raw) => {
        raw.on("error", () => {}); // surfaces on the TLS socket
        const secure = new tls.TLSSocket(raw, {
          isServer: true,
          secureContext,
          ALPNProtocols: alpnList(tlsChecked.alpnProtocols),
          highWaterMark: checked.highWaterMark,
        } as tls.TLSSocketOptions);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const drop = () => {
          if (timer !== undefined) clearTimeout(timer);
          secure.destroy(); // closes the TCP connection it has taken over
        };
        if (tlsChecked.handshakeTimeoutMs > 0) {
          // A client that never finishes its handshake is dropped.
          timer = setTimeout(drop, tlsChecked.handshakeTimeoutMs);
          unrefTimer(timer);
        }
        secure.once("error", drop);
        secure.once("close", drop);
        secure.once("secure", () => {
          if (timer !== undefined) clearTimeout(timer);
          secure.off("error", drop);
          secure.off("close", drop);
          const socket = wrapNodeSocket(secure, {
            transport: "tls",
            closeTimeoutMs: checked.closeTimeoutMs,
            tls: true,
          });
          handOverAccepted(onSocket, socket);
        });
      },
    );
    return bindNodeServer(server, "tls", checked);
  };
}

/** Node wants ALPN protocols as a wire-format buffer or string array; undefined when none. */
function alpnList(protocols: string[] | undefined): string[] | undefined {
  return protocols !== undefined && protocols.length > 0 ? protocols : undefined;
}
