/**
 * The Ferry bench servers of the Node server process: the bench service
 * (`ferry-bench-service.ts`) on the Node TCP, TLS and WebSocket (`ws`) listeners. The TLS server
 * uses the server process's self-signed certificate (`bench-certificate.ts`).
 *
 * @module
 */

import { tcpListen } from "../../adapters/node/tcp.ts";
import { tlsListen } from "../../adapters/node/tls.ts";
import { webSocketListen } from "../../adapters/node/ws-listen.ts";
import type { Listen } from "../../src/socket.ts";
import { benchCertificate } from "./bench-certificate.ts";
import { createFerryBenchServer, type FerryBenchServerOptions } from "./ferry-bench-service.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import { benchHost, type RunningServer } from "./running-server.ts";
import { webSocketHighWaterMark } from "./raw-blast-protocol.ts";

async function listenWith(
  listen: Listen,
  options: FerryBenchServerOptions = {},
): Promise<RunningServer> {
  const server = createFerryBenchServer(options);
  const listener = await server.listen(listen);
  return {
    port: listener.address.port,
    close: () => server.close(),
  };
}

/** Ferry over plain TCP. */
export function startFerryBenchServer(): Promise<RunningServer> {
  return listenWith(tcpListen({ host: benchHost, port: 0 }));
}

/** Ferry over WebSocket (`ws`), any path. */
export function startFerryWebSocketBenchServer(): Promise<RunningServer> {
  return listenWith(
    // Any origin: the Chromium bench's page connects from its own.
    webSocketListen({
      host: benchHost,
      port: 0,
      highWaterMark: webSocketHighWaterMark,
      allowedOrigins: ["*"],
    }),
  );
}

/** Ferry over TLS, with the certificate the bench writes for its clients to trust. */
export async function startFerryTlsBenchServer(): Promise<RunningServer> {
  const { certPem, keyPem } = await benchCertificate();
  return listenWith(tlsListen({ host: benchHost, port: 0, cert: certPem, key: keyPem }));
}

/**
 * Ferry over plain TCP answering Ferry pings (`ferryPingResponder`), for clients that run the
 * Ferry heartbeat (the `scale` case).
 */
export function startFerryHeartbeatBenchServer(): Promise<RunningServer> {
  return listenWith(tcpListen({ host: benchHost, port: 0 }), {
    interceptor: ferryPingResponder,
    // The scale case's 10 100 connections all come from 127.0.0.1: above the default caps
    // (10 000 in all, 1 000 per address), which would refuse them with a reset. A server meant
    // for that many clients raises both, as this one does.
    maxConnections: 20_000,
    maxConnectionsPerAddress: 20_000,
  });
}
