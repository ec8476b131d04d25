/**
 * Bulk transfer over WebSocket into Chromium: 1 GiB as 1 MiB chunks over loopback, in a Chromium
 * launched directly (`bench/harness/chromium-direct.ts`; Playwright would slow the page's
 * WebSocket reception ~7×), both contestants in the same page, one after the other.
 *
 * - ferry-chromium: the shipped browser bundle's `TransportClient.fetchChunk`, 16 in flight, over
 *   `webSocketConnect` with Chromium's WebSocket, from the bench Ferry service on Ferry's Node
 *   WebSocket listener (in the server process).
 * - raw-ws-chromium: Chromium's WebSocket receiving the raw `ws` blast (1 MiB binary messages,
 *   `bufferedAmount` honoured) and counting bytes.
 *
 * Both record `chromiumCpuSeconds`: CPU time of Chromium's process group during the run.
 *
 * @module
 */

import { type ChromiumDirect, sharedChromiumDirect } from "../harness/chromium-direct.ts";
import type { BenchCase, Contestant } from "../harness/bench-case.ts";
import { chunkCount, chunksInFlight } from "./chunk-fetch-work.ts";

const page = "chromium-chunk-fetch-page.js";
const chromium = sharedChromiumDirect({ modules: ["bench/browser/chromium-chunk-fetch-page.ts"] });

/** A contestant that opens with `openExport(url)` and runs `runExport(count)` in the page. */
function pageContestant(
  name: string,
  description: string,
  serverKind: string,
  openExport: string,
  runExport: string,
): Contestant {
  return {
    name,
    description,
    async open(context) {
      const browser: ChromiumDirect = await chromium.acquire();
      try {
        const { host, port } = context.servers.get(serverKind);
        await browser.call(page, openExport, [`ws://${host}:${port}/`]);
      } catch (error) {
        await chromium.release();
        throw error;
      }
      return {
        async run(phase) {
          const before = browser.cpuSeconds();
          const figures = await browser.call<Record<string, number>>(page, runExport, [
            chunkCount(context, phase),
          ]);
          const after = browser.cpuSeconds();
          return before === undefined || after === undefined
            ? figures
            : { ...figures, chromiumCpuSeconds: after - before };
        },
        close: () => chromium.release(),
      };
    },
  };
}

export const chromiumWsChunkFetchCase: BenchCase = {
  name: "chromium-ws-chunk-fetch",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, over WebSocket into a ` +
    `directly launched Chromium (browser bundle), vs a raw ws blast into the same page`,
  servers: ["ferry-ws", "raw-ws-blast"],
  contestants: [
    pageContestant(
      "ferry-chromium",
      `browser bundle's TransportClient.fetchChunk over webSocketConnect (Chromium's ` +
        `WebSocket), ${chunksInFlight} in flight`,
      "ferry-ws",
      "openFerry",
      "fetchFerry",
    ),
    pageContestant(
      "raw-ws-chromium",
      "ws server sends 1 MiB binary messages honouring bufferedAmount; Chromium's WebSocket counts",
      "raw-ws-blast",
      "openRaw",
      "blastRaw",
    ),
  ],
  rows: [{
    name: "chromium-ws-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-chromium",
    baseline: "raw-ws-chromium",
    target: { op: ">=", ratio: 0.8 },
  }],
};
