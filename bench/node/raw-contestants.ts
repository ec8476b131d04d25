/**
 * The in-process baseline contestants of the Node TCP cases, run by `contestant-host.ts` in a
 * process of their own (see `cases/fresh-process-contestant.ts`). This module loads no Ferry code,
 * and grpc-js only when its contestant opens.
 *
 * - `blast`: raw `node:net` blast client counting bytes of `data` events (a fresh `Buffer` each).
 * - `blast-onread`: the same blast read with `onread` into one reused 1 MiB buffer.
 * - `tls-blast`: the same blast over Node TLS (`tls.createServer` / `tls.connect`).
 * - `echo-pipelined`: length-prefixed echo, 256 in flight (`rpc-echo`).
 * - `echo-ping-pong`: length-prefixed echo, one in flight, each round trip timed (`rpc-latency`).
 * - `grpc-echo`: grpc-js unary raw-bytes echo, 256 in flight (`rpc-echo`).
 *
 * @module
 */

import type { Contestant } from "../harness/bench-case.ts";
import { RawBlastClient } from "../baselines/raw-blast-client.ts";
import { RawEchoClient } from "../baselines/raw-echo-client.ts";
import { RawOnreadBlastClient } from "../baselines/raw-onread-blast-client.ts";
import { RawTlsBlastClient } from "../baselines/raw-tls-blast-client.ts";
import { blastContestant } from "../cases/chunk-fetch-work.ts";
import {
  fastWorkload,
  grpcWorkload,
  inFlight,
  payloadBytes,
  pingCount,
  rate,
  requestCount,
  summarizeLatencies,
} from "../cases/rpc-work.ts";
import { echoPayload } from "../servers/ferry-bench-protocol.ts";

const blast = blastContestant(
  "raw-net",
  "node:net server writes 1 MiB buffers honouring backpressure; client counts bytes",
  (context) => RawBlastClient.connect(context.servers.get("raw-blast")),
);

const blastOnread = blastContestant(
  "raw-net-onread",
  "the same blast read with onread into one reused 1 MiB buffer",
  (context) => RawOnreadBlastClient.connect(context.servers.get("raw-blast")),
);

const tlsBlast = blastContestant(
  "raw-tls",
  "the same raw blast over Node TLS; the client counts decrypted bytes",
  (context) => RawTlsBlastClient.connect(context.servers.get("raw-tls-blast")),
);

const echoPipelined: Contestant = {
  name: "raw-net",
  description: `length-prefixed node:net echo, ${payloadBytes}-byte payload, ${inFlight} in flight`,
  async open(context) {
    const client = await RawEchoClient.connect(context.servers.get("raw-echo"));
    const payload = echoPayload(payloadBytes);
    return {
      async run(phase) {
        const total = requestCount(context, phase, fastWorkload);
        const startedAt = performance.now();
        await client.pipelined(total, inFlight, payload);
        return rate(total, startedAt);
      },
      close: () => client.close(),
    };
  },
};

const echoPingPong: Contestant = {
  name: "raw-net",
  description: `length-prefixed node:net ping-pong, ${payloadBytes}-byte payload`,
  async open(context) {
    const client = await RawEchoClient.connect(context.servers.get("raw-echo"));
    const payload = echoPayload(payloadBytes);
    return {
      async run(phase) {
        return summarizeLatencies(await client.pingPong(pingCount(context, phase), payload));
      },
      close: () => client.close(),
    };
  },
};

const grpcEcho: Contestant = {
  name: "grpc-js",
  description:
    `@grpc/grpc-js unary raw-bytes echo, ${payloadBytes}-byte payload, ${inFlight} in flight`,
  async open(context) {
    const { GrpcEchoClient } = await import("../baselines/grpc-echo-client.ts");
    const client = await GrpcEchoClient.connect(context.servers.get("grpc-echo"));
    const payload = echoPayload(payloadBytes);
    return {
      async run(phase) {
        const total = requestCount(context, phase, grpcWorkload);
        const startedAt = performance.now();
        await client.pipelined(total, inFlight, payload);
        return rate(total, startedAt);
      },
      close: () => client.close(),
    };
  },
};

export const contestants: Record<string, Contestant> = {
  "blast": blast,
  "blast-onread": blastOnread,
  "tls-blast": tlsBlast,
  "echo-pipelined": echoPipelined,
  "echo-ping-pong": echoPingPong,
  "grpc-echo": grpcEcho,
};
