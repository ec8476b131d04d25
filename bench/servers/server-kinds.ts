/**
 * The server kinds the bench server process can host, each loaded only when asked for (so a run
 * of the raw baselines does not load grpc-js or the Ferry engine).
 *
 * @module
 */

import type { StartServer } from "./running-server.ts";

/** Loaders of every server kind, by the name cases list in `servers`. */
export const serverKinds: Readonly<Record<string, () => Promise<StartServer>>> = {
  /** Writes N buffers of S bytes to whoever asks, honouring backpressure. */
  "raw-blast": async () => (await import("./raw-blast-server.ts")).startRawBlastServer,
  /** The same blast over Node TLS (`tls.createServer`), with the process's certificate. */
  "raw-tls-blast": async () => (await import("./raw-blast-server.ts")).startRawTlsBlastServer,
  /** Echoes length-prefixed frames, pipelined. */
  "raw-echo": async () => (await import("./raw-echo-server.ts")).startRawEchoServer,
  /** grpc-js unary echo with raw Buffer (de)serialisation. */
  "grpc-echo": async () => (await import("./grpc-echo-server.ts")).startGrpcEchoServer,
  /** Ferry TransportServer: echo RPCs, and RPCs that register random-access chunk streams. */
  "ferry": async () => (await import("./ferry-bench-server.ts")).startFerryBenchServer,
  /** The same on TCP, answering Ferry heartbeat pings (the `scale` case). */
  "ferry-heartbeat": async () =>
    (await import("./ferry-bench-server.ts")).startFerryHeartbeatBenchServer,
  /** The same Ferry service on the `ws` WebSocket listener. */
  "ferry-ws": async () => (await import("./ferry-bench-server.ts")).startFerryWebSocketBenchServer,
  /** The same Ferry service over TLS (certificate: the `certificate` RPC of `ferry`). */
  "ferry-tls": async () => (await import("./ferry-bench-server.ts")).startFerryTlsBenchServer,
  /** `ws` server sending N binary messages of S bytes, honouring bufferedAmount. */
  "raw-ws-blast": async () =>
    (await import("./raw-ws-blast-server.ts")).startRawWebSocketBlastServer,
};
