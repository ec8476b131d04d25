/**
 * The flooding side of `reply-admission.test.ts`'s 20 000 opens, as a program of its own, so the
 * test process (where the normal client measures its latency) does not also build 20 000 requests
 * and handle 20 000 replies: what the test measures is the server's latency, not its own.
 *
 * Usage: `node --import tsx open-flood-process.ts <port> <connections> <opens per connection>`.
 * Connects, prints `READY`, floods once a line arrives on stdin, then prints one JSON line
 * (`granted`, `refused`, `unnamed`: refusals whose message does not name `maxStreams`, `ms`) and
 * keeps its connections (and their streams) open until stdin ends.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { tcpConnect } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { RemoteError } from "../../src/errors.ts";
import { fileService } from "../../src/files/file-service.ts";
import { serviceClient } from "../../src/rpc/mod.ts";

const [port, connections, opens] = process.argv.slice(2).map(Number) as [number, number, number];
const clients: TransportClient[] = [];
for (let c = 0; c < connections; c++) {
  clients.push(new TransportClient(await tcpConnect({ host: "127.0.0.1", port })()));
}
const lines = createInterface({ input: process.stdin });
const commands = lines[Symbol.asyncIterator]();
process.stdout.write("READY\n");
await commands.next();
const started = performance.now();
const outcomes = await Promise.all(
  clients.flatMap((client) => {
    const files = serviceClient(fileService, client);
    return Array.from(
      { length: opens },
      () => files.open({ name: "big.bin" }).then(() => "ok", (error: unknown) => error),
    );
  }),
);
const refusals = outcomes.filter((outcome) => outcome !== "ok");
process.stdout.write(
  JSON.stringify({
    granted: outcomes.length - refusals.length,
    refused: refusals.length,
    unnamed: refusals.filter((error) =>
      !(error instanceof RemoteError && /\(maxStreams \d+\)/.test(error.message))
    ).length,
    ms: performance.now() - started,
  }) + "\n",
);
await commands.next(); // until stdin ends
for (const client of clients) await client.close();
process.exit(0);
