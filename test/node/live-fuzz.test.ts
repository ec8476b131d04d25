/**
 * Fuzzing a live server: seeded random and mutated frames (every message type, bytes flipped,
 * frames cut short, lengths replaced, unknown types, garbage) over real TCP connections to a
 * running TransportServer. No crash, no unhandled rejection, every connection the server closed
 * carries a typed error (or none), and a well-behaved client is still served afterwards.
 *
 * FERRY_FUZZ_CASES sets the number of frames (default 100 000; the long run is 1 000 000);
 * FERRY_FUZZ_SEED the seed. Figures printed: frames by mutation, connections by how they ended.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import process from "node:process";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { TransportError } from "../../src/errors.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { concat, text, utf8 } from "../helpers/engine-fixtures.ts";
import { reliabilityHandler, reliabilityStreams } from "../helpers/reliability-server.ts";
import { fuzzFrame, type Mutation } from "../helpers/wire-fuzz.ts";
import { mulberry32 } from "../unit/protocol/message-arbitraries.ts";

const FRAMES = Number(process.env.FERRY_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.FERRY_FUZZ_SEED ?? 20_261_123);
const PARALLEL = 32;
// Low enough that most frames are decoded before a mutation breaks the connection.
const MUTATE_RATE = 0.05;

test(`${FRAMES} random and mutated frames through live server connections`, async () => {
  const random = mulberry32(SEED);
  let uncaught = 0;
  let unhandled = 0;
  const onUncaught = (error: unknown) => {
    uncaught++;
    console.error("uncaught:", error);
  };
  const onUnhandled = (reason: unknown) => {
    unhandled++;
    console.error("unhandled rejection:", reason);
  };
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUnhandled);
  const endings = new Map<string, number>();
  const untyped: unknown[] = [];
  const server = new TransportServer({
    rpcHandler: {
      ...reliabilityHandler,
      channelInactive(_client, error) {
        const name = error === undefined ? "clean end" : (error as Error).name;
        endings.set(name, (endings.get(name) ?? 0) + 1);
        if (error !== undefined && !(error instanceof TransportError)) untyped.push(error);
      },
    },
    streamManager: reliabilityStreams,
    maxFrameLength: 1 << 20,
    onHandlerError: () => {},
  });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const port = listener.address.port;
  const byKind = new Map<Mutation, number>();
  let sent = 0;
  let connections = 0;
  let hung = 0;
  const started = performance.now();

  const one = (): Promise<void> => {
    const count = 1 + Math.floor(random() * 60);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < count && sent < FRAMES; i++, sent++) {
      const { bytes, kind } = fuzzFrame(random, MUTATE_RATE);
      pieces.push(bytes);
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    }
    const wire = concat(pieces);
    const cuts = [0, Math.floor(random() * wire.byteLength), wire.byteLength].sort((a, b) => a - b);
    connections++;
    return new Promise((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.on("data", () => {});
      socket.on("error", () => {});
      const timer = setTimeout(() => {
        hung++;
        socket.destroy();
      }, 10_000);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("connect", () => {
        socket.write(wire.subarray(cuts[0], cuts[1]));
        setImmediate(() => socket.end(wire.subarray(cuts[1], cuts[2])));
      });
    });
  };
  const worker = async () => {
    while (sent < FRAMES) await one();
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const seconds = (performance.now() - started) / 1000;
  for (let i = 0; i < 300 && server.connections.size > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  // Another client is still served.
  const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port }));
  const still = text(await client.sendRpc(utf8("still serving")));
  await client.close();
  await server.close();
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUnhandled);

  console.log(
    `live fuzz: ${sent} frames (seed ${SEED}) over ${connections} TCP connections in ` +
      `${seconds.toFixed(1)} s; frames ${
        [...byKind].map(([k, n]) => `${k} ${n}`).join(", ")
      }; server-side endings ${[...endings].map(([k, n]) => `${k} ${n}`).join(", ")}; ` +
      `uncaught ${uncaught}, unhandled rejections ${unhandled}, untyped errors ${untyped.length}, ` +
      `hung connections ${hung}; afterwards a client got '${still}'`,
  );
  assert.equal(sent, FRAMES);
  assert.equal(uncaught, 0);
  assert.equal(unhandled, 0);
  assert.deepEqual(untyped, [], "every connection the server closed carries a TransportError");
  assert.equal(hung, 0, "the server ended every connection once the peer had");
  assert.ok((endings.get("ProtocolError") ?? 0) > 0, "the mutations really broke frames");
  assert.equal(still, "still serving");
});
