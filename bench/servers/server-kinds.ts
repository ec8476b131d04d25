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
  /** Echoes length-prefixed frames, pipelined. */
  "raw-echo": async () => (await import("./raw-echo-server.ts")).startRawEchoServer,
  /** grpc-js unary echo with raw Buffer (de)serialisation. */
  "grpc-echo": async () => (await import("./grpc-echo-server.ts")).startGrpcEchoServer,
  /** Ferry TransportServer: echo RPCs, and RPCs that register random-access chunk streams. */
  "ferry": async () => (await import("./ferry-bench-server.ts")).startFerryBenchServer,
};
