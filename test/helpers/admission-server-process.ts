/**
 * A file server as `ferry serve` builds it (file service over a `OneForOneStreamManager` whose
 * `maxStreams` leaves half of the process's descriptors free, default reply limits), as a program,
 * so tests can measure its RSS and descriptors apart from the attacking clients
 * (`reply-admission.test.ts`).
 *
 * Its catalog holds one file, `big.bin`: 4 096 chunks of 1 MiB. Each `open` takes a real
 * descriptor (closed when the stream is released), as a folder catalog does, and each chunk read
 * allocates a fresh 1 MiB buffer filled with the chunk index, as a read from disk does.
 *
 * Prints `LISTENING <host> <port>` once bound. Reads commands on stdin, one per line, and answers
 * each with one JSON line on stdout: `stats` (rss, peakRss since the last reset, fds, streams,
 * transfers, charged reply bytes, connections waiting for reply memory, replies waiting as
 * records, connections reset by `replyPressureTimeoutMs`, connections open), `reset` (restarts
 * the peak after a collection). Exits when stdin ends. Usage:
 * `node --expose-gc --import tsx admission-server-process.ts`.
 *
 * @module
 */

import { closeSync, openSync, readdirSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { streamCapForDescriptors } from "../../cli/descriptor-limit.ts";
import type { FileCatalog } from "../../src/files/file-catalog.ts";
import { type FileInfo, fileService } from "../../src/files/file-service.ts";
import { fileServiceImplementation } from "../../src/files/file-service-handler.ts";
import { ServiceRouter } from "../../src/rpc/service-router.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { TransferBudget } from "../../src/responder/transfer-budget.ts";
import { TransportServer } from "../../src/server/transport-server.ts";

const MiB = 1024 * 1024;
const CHUNKS = 4096;
const info: FileInfo = {
  name: "big.bin",
  size: CHUNKS * MiB,
  chunkSize: MiB,
  chunkCount: CHUNKS,
  sha256: "0".repeat(64),
};
const descriptorTarget = new URL(import.meta.url).pathname;

const catalog: FileCatalog = {
  list: () => [info],
  open: (name) => {
    if (name !== info.name) return undefined;
    const fd = openSync(descriptorTarget, "r");
    let open = true;
    return {
      info,
      // Never asked for: the attack and the normal client fetch chunks without verifying them.
      digests: { sha256: info.sha256, chunks: new Uint8Array(0) },
      source: {
        chunkCount: CHUNKS,
        getChunk: (index) => new Uint8Array(MiB).fill(index & 0xff),
        close: () => {
          if (open) closeSync(fd);
          open = false;
        },
      },
    };
  },
};

const streams = new OneForOneStreamManager({ maxStreams: streamCapForDescriptors() });
const budget = new TransferBudget();
const server = new TransportServer({
  rpcHandler: new ServiceRouter().serve(fileService, fileServiceImplementation(catalog, streams)),
  streamManager: streams,
  transferBudget: budget,
  onHandlerError: () => {},
});
const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 10);

const gc = (globalThis as { gc?: () => void }).gc;
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const command = line.trim();
  if (command === "reset") {
    gc?.();
    peakRss = process.memoryUsage.rss();
  }
  const rss = process.memoryUsage.rss();
  peakRss = Math.max(peakRss, rss);
  process.stdout.write(
    JSON.stringify({
      command,
      rss,
      peakRss,
      fds: readdirSync("/proc/self/fd").length,
      maxStreams: streamCapForDescriptors(),
      streams: streams.stats().streams,
      transfers: budget.inProgress,
      charged: budget.replyMemory.charged,
      waiting: budget.replyMemory.waiting,
      waitingReplies: budget.replyMemory.waitingReplies,
      pressureResets: budget.replyMemory.pressureResets,
      connections: server.connections.size,
    }) + "\n",
  );
});
lines.on("close", () => {
  clearInterval(sampler);
  void server.close().then(() => process.exit(0));
});
process.stdout.write(`LISTENING ${listener.address.host} ${listener.address.port}\n`);
