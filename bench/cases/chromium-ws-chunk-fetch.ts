/**
 * Bulk transfer over WebSocket into Chromium: 1 GiB as 1 MiB chunks over loopback, in a Chromium
 * launched directly (`bench/harness/chromium-direct.ts`; Playwright would slow the page's
 * WebSocket reception ~7×), both contestants in the same page, one after the other.
 *
 * - ferry-chromium: the shipped browser bundle's `TransportClient.fetchChunk`, 16 in flight, over
 *   `webSocketConnect` with Chromium's WebSocket, from the bench Ferry service on Ferry's Node
 *   WebSocket listener.
 * - raw-ws-chromium: Chromium's WebSocket receiving the raw `ws` blast (1 MiB binary messages,
 *   `bufferedAmount` honoured) and counting bytes.
 *
 * Every round each contestant connects afresh to a server process of its own
 * (`harness/fresh-server.ts`) and first moves a warm-up's worth untimed. Both record
 * `chromiumCpuSeconds` (CPU time of Chromium's process group during the run) and
 * `serverCpuSeconds`.
 *
 * @module
 */

import { type ChromiumDirect, sharedChromiumDirect } from "../harness/chromium-direct.ts";
import type { BenchCase, Contestant } from "../harness/bench-case.ts";
import { FreshServer } from "../harness/fresh-server.ts";
import { chunkCount, chunksInFlight } from "./chunk-fetch-work.ts";

const page = "chromium-chunk-fetch-page.js";
const chromium = sharedChromiumDirect({ modules: ["bench/browser/chromium-chunk-fetch-page.ts"] });

/**
 * A contestant whose page client connects with `openExport(url)` to a fresh server process
 * (`serverKind`) every round, warms up untimed, runs `runExport(count)` in the page, and closes
 * with `closeExport()`. The browser is shared by the case (launching one per round would cost more
 * than the round).
 */
function pageContestant(
  name: string,
  description: string,
  serverKind: string,
  openExport: string,
  runExport: string,
  closeExport: string,
): Contestant {
  return {
    name,
    description,
    async open(context) {
      const browser: ChromiumDirect = await chromium.acquire();
      const transfer = (count: number) =>
        browser.call<Record<string, number>>(page, runExport, [count]);
      return {
        async run(phase) {
          const server = await FreshServer.start([serverKind]);
          try {
            const { host, port } = server.directory.get(serverKind);
            await browser.call(page, openExport, [`ws://${host}:${port}/`]);
            if (phase === "measure") await transfer(chunkCount(context, "warmup"));
            const before = browser.cpuSeconds();
            const serverBefore = await server.cpuSeconds();
            const figures = await transfer(chunkCount(context, phase));
            const serverCpuSeconds = (await server.cpuSeconds()) - serverBefore;
            const after = browser.cpuSeconds();
            return before === undefined || after === undefined
              ? { ...figures, serverCpuSeconds }
              : { ...figures, serverCpuSeconds, chromiumCpuSeconds: after - before };
          } finally {
            await browser.call(page, closeExport, []).catch(() => {});
            await server.stop();
          }
        },
        close: () => chromium.release(),
        warmsUpEachRun: true,
      };
    },
  };
}

export const chromiumWsChunkFetchCase: BenchCase = {
  name: "chromium-ws-chunk-fetch",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, over WebSocket into a ` +
    `directly launched Chromium (browser bundle), vs a raw ws blast into the same page`,
  servers: [], // each contestant starts its own server process every round
  contestants: [
    pageContestant(
      "ferry-chromium",
      `browser bundle's TransportClient.fetchChunk over webSocketConnect (Chromium's ` +
        `WebSocket), ${chunksInFlight} in flight`,
      "ferry-ws",
      "openFerry",
      "fetchFerry",
      "closeFerry",
    ),
    pageContestant(
      "raw-ws-chromium",
      "ws server sends 1 MiB binary messages honouring bufferedAmount; Chromium's WebSocket counts",
      "raw-ws-blast",
      "openRaw",
      "blastRaw",
      "closeRaw",
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
